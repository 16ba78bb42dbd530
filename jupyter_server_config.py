# JupyterLab's server settings for the course (`make lab` passes this file with --config).
# Lecture notebooks are tracked without outputs: saving one (autosave included) writes it
# without outputs, so opening and running a lecture never dirties the clone. Assignments and
# every other notebook are saved as they are.
from autograder.lab import strip_lecture_outputs

c = get_config()  # noqa: F821  (provided by traitlets when the server loads this file)
c.FileContentsManager.pre_save_hook = strip_lecture_outputs
