"""The course edition: exercise stubs, the student bundle, the autograder (nbgrader).

One source: the solution notebooks in `notebooks/` and the reference code in `helpers` carry
`### BEGIN SOLUTION <message>` / `### END SOLUTION` regions; the student edition replaces each
region by `raise NotImplementedError("<message>")` (see `stubs`).
"""
