# `jupyter nbconvert --to pdf` with JUPYTER_CONFIG_PATH=jupyter-config uses the workbook's export settings.
from helpers.export.pdf import configure

configure(c)  # noqa: F821 (`c` is the config object Jupyter hands to this file)
