# The class's JupyterHub: `make hub` runs `jupyterhub -f deploy/jupyterhub/jupyterhub_config.py` as root,
# after deploy/jupyterhub/setup.py has made the shared environment, the accounts and the courses.
#
# Read from the environment (make hub sets them):
#   NLP_HUB_PREFIX  where setup.py put everything (default /opt/nlp-course)
#   NLP_HUB_ENV     the shared environment (default PREFIX/env)
#   NLP_HUB_ROSTER  who is in which course (default deploy/jupyterhub/roster.toml)
#   NLP_HUB_PORT    the Hub's public port on NLP_HUB_IP (default 8000 on 127.0.0.1); the Hub's own API
#                   listens on PORT+1, the proxy's API on PORT+2, course i's formgrader on PORT+10+i
#   NLP_HUB_DB      JupyterHub's database URL (default SQLite in PREFIX/hub/); the courses' gradebooks are
#                   set in each course's nbgrader configuration (see README, "For instructors")
#
# Who gets what:
#   students     log in with their Unix password (PAM), get their own JupyterLab (LocalProcessSpawner: a
#                process as their Unix account, in their home) with nbgrader's *Assignments* tab
#                (fetch, submit, fetch feedback) and no formgrader;
#   instructors  the same, plus the course list, and formgrader for their courses: each course's
#                formgrader is a Hub service run as the account grader-<course id>, who alone can read the
#                course directory (solutions, hidden checks, gradebook, submissions);
#   enrolment    the Hub's groups nbgrader-<course id> (students) and formgrade-<course id> (graders),
#                which nbgrader's JupyterHubAuthPlugin reads (nbgrader's documented multiple-course set-up).
import os
import pwd
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from setup import DEFAULT_PREFIX, DEFAULT_ROSTER, grader_account, load_roster, people  # noqa: E402

c = get_config()  # noqa: F821  (provided by traitlets when JupyterHub loads this file)

PREFIX = Path(os.environ.get("NLP_HUB_PREFIX", DEFAULT_PREFIX))
ROSTER = Path(os.environ.get("NLP_HUB_ROSTER", DEFAULT_ROSTER))
IP = os.environ.get("NLP_HUB_IP", "127.0.0.1")
PORT = int(os.environ.get("NLP_HUB_PORT", "8000"))
ENV = Path(os.environ.get("NLP_HUB_ENV", PREFIX / "env"))
STATE = PREFIX / "hub"
STATE.mkdir(parents=True, exist_ok=True)
os.chmod(STATE, 0o700)

courses = load_roster(ROSTER)
instructors, students = people(courses)

# Where the Hub listens, its state, its proxy (npm's configurable-http-proxy, installed by make hub).
c.JupyterHub.bind_url = f"http://{IP}:{PORT}"
c.JupyterHub.hub_bind_url = f"http://127.0.0.1:{PORT + 1}"
c.ConfigurableHTTPProxy.api_url = f"http://127.0.0.1:{PORT + 2}"
c.ConfigurableHTTPProxy.command = [str(HERE / "node_modules" / ".bin" / "configurable-http-proxy")]
c.JupyterHub.db_url = os.environ.get("NLP_HUB_DB", f"sqlite:///{STATE / 'jupyterhub.sqlite'}")
c.JupyterHub.cookie_secret_file = str(STATE / "jupyterhub_cookie_secret")
c.JupyterHub.pid_file = str(STATE / "jupyterhub.pid")
c.JupyterHub.cleanup_servers = True

# Accounts: the roster's people, their Unix passwords (PAM); nobody else.
c.JupyterHub.authenticator_class = "pam"
c.Authenticator.allowed_users = set(instructors + students)

# Each user's server: JupyterLab from the shared environment, as their Unix account, in their home.
c.JupyterHub.spawner_class = "localprocess"
c.Spawner.cmd = [str(ENV / "bin" / "jupyterhub-singleuser")]
c.Spawner.default_url = "/lab"
c.Spawner.notebook_dir = "~"
c.Spawner.start_timeout = 120
c.Spawner.http_timeout = 120
c.Spawner.environment = {"PATH": f"{ENV / 'bin'}:/usr/bin:/bin"}


def role_settings(spawner):
    """Students' servers get the Assignments tab only; instructors' the course list too (PREFIX/etc/<role>)."""
    role = "instructor" if spawner.user.name in instructors else "student"
    home = Path(pwd.getpwnam(spawner.user.name).pw_dir)
    spawner.environment["JUPYTER_CONFIG_DIR"] = str(PREFIX / "etc" / role)
    # JupyterLab keeps its settings under the config folder unless told: in the user's home instead
    spawner.environment["JUPYTERLAB_SETTINGS_DIR"] = str(home / ".jupyter" / "lab" / "user-settings")
    spawner.environment["JUPYTERLAB_WORKSPACES_DIR"] = str(home / ".jupyter" / "lab" / "workspaces")


c.Spawner.pre_spawn_hook = role_settings

# Groups: enrolment (nbgrader-<id>) and who grades (formgrade-<id>), from the roster at every start.
c.JupyterHub.load_groups = {}
for course in courses:
    c.JupyterHub.load_groups[f"nbgrader-{course['id']}"] = {"users": course["students"] + course["instructors"]}
    # the grader account is a Hub user too (it never logs in: no password): nbgrader's formgrader asks
    # the Hub for the groups of the account it runs as (nbgrader issue #1872)
    c.JupyterHub.load_groups[f"formgrade-{course['id']}"] = {
        "users": course["instructors"] + [grader_account(course["id"])]}

# Roles: a server's token acts for its owner (nbgrader's assignment list reads the owner's groups);
# graders reach their course's formgrader; each formgrader service reads users and groups.
c.JupyterHub.load_roles = [
    {"name": "server", "scopes": ["inherit"]},
    {"name": "formgrader-services", "services": [c_["id"] for c_ in courses],
     "scopes": ["read:users", "read:groups", "groups", "list:services", "read:services"]},
]
for course in courses:
    c.JupyterHub.load_roles += [
        {"name": f"formgrade-{course['id']}", "groups": [f"formgrade-{course['id']}"],
         "scopes": [f"access:services!service={course['id']}", "list:services",
                    f"read:services!service={course['id']}"]},
        {"name": f"nbgrader-{course['id']}", "groups": [f"nbgrader-{course['id']}"],
         "scopes": ["list:services", f"read:services!service={course['id']}"]},
    ]

# Each course's formgrader: JupyterLab with nbgrader's formgrader, run by the Hub as grader-<id> in the
# course directory (a copy of this repository), reached at /services/<id>/formgrader by its graders.
c.JupyterHub.services = []
for i, course in enumerate(courses):
    home = PREFIX / "courses" / course["id"]
    c.JupyterHub.services.append({
        "name": course["id"],
        "display": True,
        "oauth_no_confirm": True,
        "url": f"http://127.0.0.1:{PORT + 10 + i}",
        "command": [str(ENV / "bin" / "jupyterhub-singleuser"), "--ServerApp.root_dir=" + str(home / "course")],
        "user": grader_account(course["id"]),
        "cwd": str(home / "course"),
        "environment": {
            "HOME": str(home),
            "PATH": f"{ENV / 'bin'}:/usr/bin:/bin",
            # the course's own autograder and its specs, readable by this account alone
            "PYTHONPATH": str(home / "course"),
            "NLP_COURSE_ID": course["id"],
            "NLP_COURSE_EXCHANGE": str(PREFIX / "exchange"),
            "JUPYTERHUB_DEFAULT_URL": "/formgrader",
        },
    })
