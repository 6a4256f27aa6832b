"""pytest runs the course in the quick `smoke` profile unless D2LMINI_PROFILE says otherwise.

Set here, before any notebook kernel starts, so the kernels nbval launches inherit it."""

import os

os.environ.setdefault("D2LMINI_PROFILE", "smoke")
