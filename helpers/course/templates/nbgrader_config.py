# nbgrader configuration of the RNN Workbook course directory (written by `make student`; edit the
# template helpers/course/templates/nbgrader_config.py instead). Run nbgrader from this folder.
c = get_config()  # noqa: F821 (nbgrader hands `get_config` to this file)

c.CourseDirectory.course_id = "{COURSE_ID}"
c.CourseDirectory.root = "."

# The student edition: like nbgrader's default, but each code region becomes
# raise NotImplementedError("<the region's message>") instead of nbgrader's generic stub.
c.GenerateAssignment.preprocessors = [
    "nbgrader.preprocessors.IncludeHeaderFooter",
    "nbgrader.preprocessors.InstantiateTests",
    "nbgrader.preprocessors.LockCells",
    "helpers.course.stubs.ClearSolutionsWithMessages",
    "nbgrader.preprocessors.ClearOutput",
    "nbgrader.preprocessors.CheckCellMetadata",
    "nbgrader.preprocessors.ComputeChecksums",
    "nbgrader.preprocessors.SaveCells",
    "nbgrader.preprocessors.ClearHiddenTests",
    "nbgrader.preprocessors.ClearMarkScheme",
    "nbgrader.preprocessors.ComputeChecksums",
    "nbgrader.preprocessors.CheckCellMetadata",
]

# Autograding runs every notebook with the workbook's kernel; `make grade` sets WORKBOOK_QUICK=1, so
# the checks run in full and the experiments shrink. A cell gets {CELL_TIMEOUT} s.
c.Execute.kernel_name = "rnn-workbook"
c.Execute.timeout = {CELL_TIMEOUT}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"
