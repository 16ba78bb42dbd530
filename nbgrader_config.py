# nbgrader reads this file when run from the repository root (the `nbgrader`
# command line, and formgrader in JupyterLab started by `make lab`).
# The settings live in autograder/config.py, shared with `python -m autograder`.
from autograder.config import course_config, ensure_exchange, hub_config, patch_validator_messages
from autograder.nbgrader_api import quiet_false_warnings

c = get_config()  # noqa: F821  (provided by traitlets when nbgrader loads this file)
c.merge(course_config())
c.merge(hub_config())  # on the class's JupyterHub (deploy/jupyterhub): its shared exchange and course id
ensure_exchange(c)  # .grading/exchange: formgrader's release/collect folder
patch_validator_messages()
quiet_false_warnings()  # SQLAlchemy's and nbformat's notes on nbgrader's own doings, per submission
