# The Jupyter server of `make lab` exports PDFs (File → Save and Export Notebook As → PDF) with the
# workbook's template and preprocessors, from the `helpers` folder beside this configuration.
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from helpers.export.pdf import configure  # noqa: E402

configure(c)  # noqa: F821 (`c` is the config object Jupyter hands to this file)
