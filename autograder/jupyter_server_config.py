"""Jupyter server configuration for grading in this course folder with nbgrader's formgrader.

``deepfakelab course release`` copies this file into the instructor's course folder, and
``deepfakelab course formgrader`` starts JupyterLab there with it (jupyter_server does not read a
config file from the current folder by itself: ``jupyter lab --config=jupyter_server_config.py``
does the same).

Formgrader renders students' notebooks inside the instructor's Jupyter session. The kit's
extension below gives every formgrader page a Content-Security-Policy that lets only formgrader's
own scripts run (see deepfakelab/course/formgrader_csp.py); the graded notebooks it shows are
sanitised when `deepfakelab course grade` makes them. Open formgrader only after grading, and
never open the raw notebooks under submitted/ as trusted notebooks.
"""

c = get_config()  # noqa: F821  (jupyter injects get_config)

# nbgrader enables formgrader itself (etc/jupyter/jupyter_server_config.d/nbgrader.json); this adds the policy.
c.ServerApp.jpserver_extensions = {"deepfakelab.course.formgrader_csp": True}
