"""The Hub recipe's pieces that need no Hub: the roster, the roles' settings, the grader's nbgrader settings."""

import importlib.util
import json

import pytest

from autograder.config import hub_config
from conftest import REPO

spec = importlib.util.spec_from_file_location("hub_setup", REPO / "deploy" / "jupyterhub" / "setup.py")
hub_setup = importlib.util.module_from_spec(spec)
spec.loader.exec_module(hub_setup)


def test_outside_a_hub_nothing_changes():
    assert hub_config({}) == {}


def test_the_grader_service_uses_the_shared_exchange_and_the_hubs_groups():
    c = hub_config({"NLP_COURSE_EXCHANGE": "/srv/x/exchange", "NLP_COURSE_ID": "nlp-b"})
    assert c.Exchange.root == "/srv/x/exchange" and c.Exchange.path_includes_course is True
    assert c.CourseDirectory.course_id == "nlp-b"
    assert c.Authenticator.plugin_class == "nbgrader.auth.JupyterHubAuthPlugin"


def test_the_shipped_roster_is_valid_and_people_are_listed_once():
    courses = hub_setup.load_roster(hub_setup.DEFAULT_ROSTER)
    instructors, students = hub_setup.people(courses)
    assert instructors and students and not set(instructors) & set(students)
    assert all(len(hub_setup.grader_account(c["id"])) <= 32 for c in courses)   # useradd's limit


def test_a_roster_without_students_is_one_line(tmp_path):
    bad = tmp_path / "r.toml"
    bad.write_text('[[course]]\nid = "x"\ninstructors = ["a"]\n')
    with pytest.raises(SystemExit, match="lacks students"):
        hub_setup.load_roster(bad)


def test_students_get_no_formgrader_and_instructors_no_local_one(tmp_path):
    hub_setup.role_settings(tmp_path)
    hub_setup.nbgrader_settings(tmp_path, tmp_path / "exchange", [{"id": "c1", "title": "C 1"}])
    for role in ("student", "instructor"):
        lab = json.loads((tmp_path / role / "labconfig" / "page_config.json").read_text())["disabledExtensions"]
        server = json.loads((tmp_path / role / "jupyter_server_config.json").read_text())
        assert lab["@jupyter/nbgrader:formgrader"] and lab["@jupyter/nbgrader:create-assignment"]
        assert server["ServerApp"]["jpserver_extensions"]["nbgrader.server_extensions.formgrader"] is False
        text = (tmp_path / role / "nbgrader_config.py").read_text()
        assert "path_includes_course = True" in text and "JupyterHubAuthPlugin" in text
    assert "@jupyter/nbgrader:course-list" in json.loads(
        (tmp_path / "student" / "labconfig" / "page_config.json").read_text())["disabledExtensions"]
