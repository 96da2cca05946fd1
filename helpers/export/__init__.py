"""PDF export of the workbook: `python -m helpers.export` (behind `make pdf`) and the nbconvert
configuration that the JupyterLab server of `make lab` loads from `jupyter-config/`.

Modules: `preprocessors` (what a PDF must not show), `pdf` (configuration, exporter, file names),
`templates/workbook` (the LaTeX template: fonts, title block).
"""
