"""WordNet / 词网, offline: NLTK's reader on Debian's WordNet 3.0, hypernyms / 上位词 and similarity.

Used by notebooks/03_wordnet.ipynb and problem set ps3_wordnet.

Loading: ``load()`` (from ``course_lib.wordnet_data``, re-exported here) returns NLTK's
WordNet reader offline, built from Debian's WordNet 3.0 files when NLTK has none.

Knowledge-based meaning (the slides' first topic).  WordNet groups words into synsets
(同义词集, sets of synonyms, one per sense) linked by relations, among them
hypernymy (上位词, "is a kind of": vehicle is a hypernym of car) and its inverse hyponymy
(下位词: car is a hyponym of vehicle).  The slides translate hypernym as 超义词; the
usual terms are 上位词 / 下位词.  Measures on the hypernym graph, as NLTK defines them
for nouns (instance hypernyms count as hypernyms):

    path similarity     sim_path(a, b) = 1 / (1 + shortest path length between a and b
                                          through a common hypernym)
    Wu–Palmer           sim_wup(a, b) = 2 d(lcs) / ((d(lcs) + dist(a, lcs)) + (d(lcs) + dist(b, lcs)))

where lcs is the lowest common hypernym (the common hypernym with the greatest depth;
NLTK picks it by its shortest depth and then uses its longest depth + 1 as d(lcs)).
Verbs have no single root; NLTK then adds a fake root, which the functions here do not do
(they return None when two synsets share no hypernym).
"""

from __future__ import annotations

from collections import deque

from course_lib.wordnet_data import DEBIAN_DIR, LEXNAMES, WordNetNotFound, build_nltk_copy, load

__all__ = [
    "LEXNAMES", "DEBIAN_DIR", "WordNetNotFound", "build_nltk_copy", "load", "hypernym_paths",
    "hypernym_distances", "hyponym_closure", "common_hypernyms", "lowest_common_hypernyms",
    "max_depth", "min_depth", "shortest_path_distance", "path_similarity", "wup_similarity",
    "word_similarity", "draw_hypernym_tree",
]


# --------------------------------------------------------------------------
# The hypernym graph (nouns; instance hypernyms count as hypernyms, as in NLTK)
# --------------------------------------------------------------------------

def _by_name(synsets) -> list:
    # NLTK keeps a synset's links in a set of (pos, offset) tuples, so the order of hypernyms() and
    # hyponyms() depends on Python's string hashing and changes from one process to the next.
    return sorted(synsets, key=lambda s: s.name())


def _parents(synset) -> list:
    return _by_name(synset.hypernyms() + synset.instance_hypernyms())


def hypernym_paths(synset) -> list[list]:
    """Every path from a root down to ``synset``: a list of lists of synsets, root first.

    The same paths as NLTK's ``Synset.hypernym_paths()``, in a reproducible order (hypernyms taken
    by name; NLTK's order changes from one Python process to the next).
    """
    parents = _parents(synset)
    if not parents:
        return [[synset]]
    return [path + [synset] for parent in parents for path in hypernym_paths(parent)]


def hypernym_distances(synset) -> dict:
    """{ancestor: fewest hypernym steps from ``synset``} for ``synset`` (0) and all its hypernyms."""
    dist = {synset: 0}
    queue = deque([synset])
    while queue:                                   # breadth first: the first visit is the shortest
        s = queue.popleft()
        for p in _parents(s):
            if p not in dist:
                dist[p] = dist[s] + 1
                queue.append(p)
    return dist


def hyponym_closure(synset, depth: int | None = None) -> list:
    """All hyponyms of ``synset`` (breadth first, each once), down to ``depth`` levels if given."""
    out, seen = [], {synset}
    level, frontier = 0, [synset]
    while frontier and (depth is None or level < depth):
        nxt = []
        for s in frontier:
            for h in _by_name(s.hyponyms() + s.instance_hyponyms()):
                if h not in seen:
                    seen.add(h)
                    out.append(h)
                    nxt.append(h)
        frontier, level = nxt, level + 1
    return out


def max_depth(synset) -> int:
    """Length of the longest hypernym path from ``synset`` to a root (a root has depth 0)."""
    return max(len(p) for p in hypernym_paths(synset)) - 1


def min_depth(synset) -> int:
    """Length of the shortest hypernym path from ``synset`` to a root."""
    return min(len(p) for p in hypernym_paths(synset)) - 1


def common_hypernyms(a, b) -> set:
    """Synsets that are hypernyms of both (each synset counts as its own hypernym)."""
    return set(hypernym_distances(a)) & set(hypernym_distances(b))


def lowest_common_hypernyms(a, b, use_min_depth: bool = False) -> list:
    """The deepest common hypernyms (by ``max_depth``, or ``min_depth``), sorted by name as in NLTK."""
    common = common_hypernyms(a, b)
    if not common:
        return []
    depth = min_depth if use_min_depth else max_depth
    best = max(depth(s) for s in common)
    return sorted((s for s in common if depth(s) == best), key=lambda s: s.name())


def shortest_path_distance(a, b):
    """Fewest edges between a and b through a common hypernym, or None when they share none."""
    da, db = hypernym_distances(a), hypernym_distances(b)
    common = set(da) & set(db)
    if not common:
        return None
    return min(da[c] + db[c] for c in common)


def path_similarity(a, b):
    """1 / (1 + shortest_path_distance(a, b)), in (0, 1]; None when there is no path."""
    dist = shortest_path_distance(a, b)
    return None if dist is None else 1.0 / (1.0 + dist)


def wup_similarity(a, b):
    """Wu–Palmer similarity 2 d(lcs) / (d(a) + d(b)) as NLTK computes it for nouns (see module doc).

    d(lcs) = max_depth(lcs) + 1 for the lowest common hypernym chosen by min_depth (a itself if
    it is one), and d(a) = d(lcs) + dist(a, lcs), d(b) = d(lcs) + dist(b, lcs), where dist is
    ``shortest_path_distance`` (with multiple inheritance it can be shorter than the way up to lcs).
    """
    subsumers = lowest_common_hypernyms(a, b, use_min_depth=True)
    if not subsumers:
        return None
    lcs = a if a in subsumers else subsumers[0]
    depth = max_depth(lcs) + 1
    len_a = shortest_path_distance(a, lcs) + depth
    len_b = shortest_path_distance(b, lcs) + depth
    return 2.0 * depth / (len_a + len_b)


def word_similarity(wn, word1: str, word2: str, measure=path_similarity, pos: str = "n"):
    """Similarity of two words: the best ``measure`` over all pairs of their synsets of ``pos``.

    Returns None when either word has no synset of that part of speech (or no pair has a path).
    """
    s1, s2 = wn.synsets(word1, pos=pos), wn.synsets(word2, pos=pos)
    scores = [x for x in (measure(a, b) for a in s1 for b in s2) if x is not None]
    return max(scores) if scores else None


# --------------------------------------------------------------------------
# Drawing
# --------------------------------------------------------------------------

def draw_hypernym_tree(synsets, ax=None, all_paths: bool = True, fontsize: int = 8):
    """Draw the hypernym paths of ``synsets`` as a graph, root at the top, "is a" arrows upwards.

    Args:
        synsets: the synsets at the bottom (leaves).
        ax: a matplotlib Axes (a new figure if None).
        all_paths: every hypernym path of each synset, or only the first.

    Returns:
        the Axes.  Nodes sit on the row of their longest distance from a root; each node's
        x is the mean of its children's.
    """
    import matplotlib.pyplot as plt

    edges, level = set(), {}
    leaves = list(dict.fromkeys(synsets))
    for s in leaves:
        paths = hypernym_paths(s) if all_paths else hypernym_paths(s)[:1]
        for path in paths:
            for depth, node in enumerate(path):
                level[node] = max(level.get(node, 0), depth)
            edges.update(zip(path[1:], path[:-1]))        # (child, parent)
    order = {node: k for k, node in enumerate(level)}          # first appearance, for a stable layout
    children: dict = {}
    for child, parent in edges:
        children.setdefault(parent, []).append(child)
    for kids in children.values():
        kids.sort(key=order.get)
    # leaves get slots in depth-first order from the roots, so each subtree is contiguous (few crossings)
    x: dict = {}
    slot = 0.0
    stack = sorted((n for n in level if level[n] == 0), key=order.get, reverse=True)
    seen = set()
    while stack:
        node = stack.pop()
        if node in seen:
            continue
        seen.add(node)
        if not children.get(node):
            x[node] = slot
            slot += 1.0
        stack.extend(reversed(children.get(node, [])))
    for node in sorted(level, key=lambda n: -level[n]):      # deepest first: a parent sits above its children
        if node not in x:
            x[node] = sum(x[c] for c in children[node]) / len(children[node])
    if ax is None:
        width = max(6.0, 1.9 * slot)
        _, ax = plt.subplots(figsize=(width, 0.75 * (max(level.values()) + 1) + 0.5))
    for child, parent in edges:
        ax.annotate("", xy=(x[parent], -level[parent]), xytext=(x[child], -level[child]),
                    arrowprops={"arrowstyle": "->", "color": "0.5", "lw": 0.8, "shrinkA": 9, "shrinkB": 9})
    for node in level:
        leaf = node in leaves
        ax.text(x[node], -level[node], node.name(), ha="center", va="center", fontsize=fontsize,
                bbox={"boxstyle": "round,pad=0.25", "fc": "#ffe9b3" if leaf else "#e8f0fb", "ec": "0.6"})
    ax.set_xlim(min(x.values()) - 0.8, max(x.values()) + 0.8)
    ax.set_ylim(-max(level.values()) - 0.6, 0.6)
    ax.axis("off")
    return ax
