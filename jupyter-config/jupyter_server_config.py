# The Jupyter server of `make lab` (JUPYTER_CONFIG_PATH=jupyter-config) exports PDFs
# (File → Save and Export Notebook As → PDF) with the workbook's template and preprocessors.
from helpers.export.pdf import configure

configure(c)  # noqa: F821 (`c` is the config object Jupyter hands to this file)
