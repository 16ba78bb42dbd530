"""course_lib: the tested reference implementations behind the course notebooks.

One module per topic, named after what it teaches (see README.md, "Layout").
The package depends on numpy, torch and nltk only; it never imports
notebooks, nbgrader or the autograder.
"""

__version__ = "0.1.0"
