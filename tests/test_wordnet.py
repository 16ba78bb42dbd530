"""Tests for course_lib.wordnet.

1. load() works offline in a fresh home directory with no NLTK data (a subprocess, since
   NLTK caches what it has loaded), and fails with a message naming the fix when there is
   no WordNet at all.
2. The lexnames table against the data files (and the manual page where installed).
3. The slides' car -> vehicle example; our hypernym paths, LCS, path and Wu-Palmer
   similarity against NLTK's own methods (the oracle) on WordSim-353's noun pairs.
"""

from __future__ import annotations

import gzip
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from conftest import REPO
from course_lib import wordnet as cw
from course_lib.corpus import cache_dir
from course_lib.evaluate import load_wordsim353

HAVE_DEBIAN = (cw.DEBIAN_DIR / "data.noun").is_file()


@pytest.fixture(scope="module")
def wn():
    try:
        return cw.load()
    except cw.WordNetNotFound as exc:  # pragma: no cover - machines without the apt packages
        pytest.skip(str(exc))


@pytest.mark.skipif(not HAVE_DEBIAN, reason="Debian's wordnet-base is not installed")
def test_load_in_a_fresh_home_without_nltk_data(tmp_path):
    home, empty = tmp_path / "home", tmp_path / "nltk_data_empty"
    home.mkdir()
    empty.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("COURSE_CACHE", "NLTK_DATA")}
    env.update(HOME=str(home), NLTK_DATA=str(empty))
    script = textwrap.dedent("""
        from course_lib import wordnet, wordnet_data
        print("preinstalled", wordnet_data._nltk_has_wordnet())
        wn = wordnet.load()
        car = wn.synset("car.n.01")
        print("hypernyms", [s.name() for s in car.hypernyms()])
        print("synsets", len(wn.synsets("bank")))
    """)
    out = subprocess.run([sys.executable, "-c", script], cwd=REPO, env=env, capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 0, out.stderr
    assert "hypernyms ['motor_vehicle.n.01']" in out.stdout
    assert "synsets 18" in out.stdout
    if "preinstalled False" in out.stdout:        # the copy was built from Debian's files
        copy = home / ".cache" / "classic-neural-nlp" / "nltk_data" / "corpora" / "wordnet"
        assert (copy / "lexnames").is_file() and (copy / "data.noun").is_file()
        assert not any(p.is_symlink() for p in copy.iterdir())


def test_missing_wordnet_names_the_fix(tmp_path, monkeypatch):
    import nltk

    monkeypatch.setattr(nltk.data, "path", [str(tmp_path / "nowhere")])
    with pytest.raises(cw.WordNetNotFound) as err:
        cw.load(source=tmp_path / "no_debian_files", root=tmp_path / "root")
    message = str(err.value)
    assert "apt-get install wordnet-base wordnet-sense-index" in message and "nltk.download('wordnet')" in message
    with pytest.raises(cw.WordNetNotFound, match="lacks"):
        cw.build_nltk_copy(tmp_path, tmp_path / "root")


@pytest.mark.skipif(not HAVE_DEBIAN, reason="Debian's wordnet-base is not installed")
def test_lexnames_match_the_data_files_and_the_manual():
    assert [n for n, _, _ in cw.LEXNAMES] == list(range(45))
    category = {"n": 1, "v": 2, "a": 3, "s": 3, "r": 4}
    seen = set()
    for pos in ("noun", "verb", "adj", "adv"):
        with open(cw.DEBIAN_DIR / f"data.{pos}", encoding="utf-8") as f:
            for line in f:
                if not line.startswith("  "):                 # skip the licence header
                    _, lexfile, ss_type = line.split(" ", 3)[:3]
                    seen.add((int(lexfile), category[ss_type]))
    assert seen == {(n, cat) for n, _, cat in cw.LEXNAMES}
    for n, name, _ in cw.LEXNAMES:
        assert name.split(".")[0] in {1: "noun", 2: "verb", 3: "adj", 4: "adv"}[cw.LEXNAMES[n][2]]
    manual = Path("/usr/share/man/man5/lexnames.5WN.gz")
    if manual.exists():
        rows = [line.split() for line in gzip.open(manual, "rt") if line[:2].isdigit()]
        assert [(int(r[0]), r[1]) for r in rows] == [(n, name) for n, name, _ in cw.LEXNAMES]


def test_the_copy_is_complete(wn):
    root = cache_dir() / "nltk_data" / "corpora" / "wordnet"
    if root.exists():
        lines = (root / "lexnames").read_text().splitlines()
        assert len(lines) == 45 and lines[6] == "06\tnoun.artifact\t1"
    assert wn.synset("car.n.01").lexname() == "noun.artifact"


def test_slide_example_car_and_vehicle(wn):
    car, vehicle = wn.synset("car.n.01"), wn.synset("vehicle.n.01")
    assert vehicle in cw.hypernym_distances(car)             # vehicle is a hypernym of car
    assert car in cw.hyponym_closure(vehicle)                 # car is a hyponym of vehicle
    paths = cw.hypernym_paths(car)
    assert sorted(paths, key=names) == sorted(car.hypernym_paths(), key=names)
    assert len(paths) == 2                                       # wheeled_vehicle is a container and a vehicle
    assert [s.name() for s in paths[1][-5:]] == ["vehicle.n.01", "wheeled_vehicle.n.01",
                                                  "self-propelled_vehicle.n.01", "motor_vehicle.n.01", "car.n.01"]
    assert cw.hypernym_distances(car)[vehicle] == 4
    assert (cw.min_depth(car), cw.max_depth(car)) == (car.min_depth(), car.max_depth()) == (10, 11)
    assert len(cw.hyponym_closure(car, depth=1)) == len(car.hyponyms())


def names(path):
    return [s.name() for s in path]


def test_hypernym_paths_are_nltks_in_a_reproducible_order(wn):
    for word in ("bank", "tiger", "professor", "internet", "plant", "paris"):
        for synset in wn.synsets(word, "n"):
            ours = cw.hypernym_paths(synset)
            assert sorted(ours, key=names) == sorted(synset.hypernym_paths(), key=names)
            assert all(path[-1] == synset and not cw._parents(path[0]) for path in ours)
            assert [names(p) for p in ours] == [names(p) for p in cw.hypernym_paths(synset)]
    # paths come out with hypernyms taken in name order, whatever order NLTK's set gives
    wheeled = wn.synset("wheeled_vehicle.n.01")
    assert [names(p)[-2] for p in cw.hypernym_paths(wheeled)] == ["container.n.01", "vehicle.n.01"]


def test_measures_agree_with_nltk_on_wordsim_nouns(wn):
    pairs = load_wordsim353()[::6]                       # 59 pairs keep the test quick
    checked = 0
    for a, b, _ in pairs:
        for x in wn.synsets(a, "n")[:2]:
            for y in wn.synsets(b, "n")[:2]:
                assert cw.shortest_path_distance(x, y) == x.shortest_path_distance(y)
                assert cw.path_similarity(x, y) == pytest.approx(x.path_similarity(y))
                assert cw.wup_similarity(x, y) == pytest.approx(x.wup_similarity(y))
                assert cw.lowest_common_hypernyms(x, y) == x.lowest_common_hypernyms(y)
                assert cw.min_depth(x) == x.min_depth()
                checked += 1
    assert checked > 100


def test_word_similarity_and_missing_paths(wn):
    assert cw.word_similarity(wn, "car", "automobile") == 1.0       # one synset holds both
    assert cw.word_similarity(wn, "tiger", "cat") > cw.word_similarity(wn, "stock", "phone")
    assert cw.word_similarity(wn, "car", "quickly") is None          # no noun synset for "quickly"
    run, walk = wn.synset("run.v.01"), wn.synset("think.v.01")
    assert cw.path_similarity(run, walk) is None                     # separate verb hierarchies, no fake root


def test_draw_hypernym_tree(wn):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ax = cw.draw_hypernym_tree([wn.synset("car.n.01"), wn.synset("bicycle.n.01")])
    labels = {t.get_text() for t in ax.texts}
    assert {"car.n.01", "bicycle.n.01", "wheeled_vehicle.n.01", "entity.n.01"} <= labels
    plt.close("all")
