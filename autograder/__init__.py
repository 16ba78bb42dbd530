"""The course's grading tools: nbgrader configuration and the grading command line.

``python -m autograder release | grade | feedback`` — see README.md, "For graders".
Imports course_lib, never the reverse.
"""
