"""nbgrader configuration for a deepfakelab course.

``deepfakelab course release`` copies this file into the instructor's course folder, where
every ``nbgrader`` command (formgrader included) and ``deepfakelab course grade`` read it.
Edit the copy in the course folder, not this template, to change one term's settings.

The limits below are why a submission that loops forever or allocates without end gets its
score for the cells that did run and does not hold up the grading of the others.
"""

from nbgrader.converters import GenerateAssignment

from deepfakelab.course.website import WebsiteLinks

c = get_config()  # noqa: F821  (nbgrader injects get_config)

# --- the course -----------------------------------------------------------------------------
c.CourseDirectory.course_id = "deepfakelab"
# Student roster: add students with `nbgrader db student add ID` or `nbgrader db student import`.
# Unknown students are added when their submission is graded.

# --- what students receive -----------------------------------------------------------------
# Solutions are written between these markers; students get the stub below instead.
c.ClearSolutions.begin_solution_delimeter = "BEGIN SOLUTION"
c.ClearSolutions.end_solution_delimeter = "END SOLUTION"
c.ClearSolutions.code_stub = {
    "python": "# YOUR CODE HERE\nraise NotImplementedError('Write your code here, then run the checks below.')"
}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"
# Hidden test cells only call the hidden checks (autograder/hidden_checks/), which never leave
# the instructor's machine, so nothing an instructor asserts leaks into the feedback.
c.ClearHiddenTests.begin_test_delimeter = "BEGIN HIDDEN TESTS"
c.ClearHiddenTests.end_test_delimeter = "END HIDDEN TESTS"
# The notebooks link every part and term to the course website with site-relative links, which
# open nothing in JupyterLab; the release makes them absolute. Give the address where you publish
# the site (`python site/build.py` builds it), here or as `deepfakelab course release --site-url URL`
# (or $DEEPFAKELAB_SITE_URL); left empty, the links stay relative and the release says so.
c.WebsiteLinks.base_url = ""
# First, so the checksums nbgrader records are those of the cells students receive.
c.GenerateAssignment.preprocessors = [
    WebsiteLinks,
    *GenerateAssignment.class_traits()["preprocessors"].default(),
]

# --- grading ---------------------------------------------------------------------------------
# Seconds one cell may run before it is interrupted (the cell then scores 0 and grading goes on).
c.Execute.timeout = 300
c.Execute.interrupt_on_timeout = True
# Seconds the whole notebook may run; cells after that are skipped (scored 0) with a message.
c.LimitedExecute.notebook_timeout = 900
# Address space (MiB) of the student's kernel; torch alone maps about 3.2 GB of address space.
c.LimitedExecute.memory_mb = 8192
# A deleted grade or test cell is put back from the instructor's source and run.
c.OverwriteCells.add_missing_cells = True
# Outputs are cut to these sizes in the graded notebook and the feedback.
c.LimitOutput.max_lines = 1000
c.LimitOutput.max_traceback = 100
# ... and to this many bytes per cell (a 200 MB print on one line is one line).
c.LimitedOutput.max_bytes = 1_000_000

# --- collecting an LMS download (`deepfakelab course grade LAB --zip download.zip`) ----------
# File names in the LMS zip look like `<student id>_<anything>_<notebook>.ipynb`; adapt the
# regular expression to your LMS (Moodle, Canvas and Blackboard each name files differently).
c.ZipCollectApp.collector_plugin = "nbgrader.plugins.zipcollect.FileNameCollectorPlugin"
c.FileNameCollectorPlugin.named_regexp = (
    r"(?:.*/)?(?P<student_id>[^_/]+)_(?:[^/]*_)?(?P<file_id>[^_/]+\.ipynb)$"
)
