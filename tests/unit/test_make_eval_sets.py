"""The evaluation sets under ``eval/`` are split by article, hold what their documents say,
load in ``python -m rag.eval``, and are rewritten identically by ``scripts.make_eval_sets``."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from rag.eval.dataset import load_dataset
from scripts.make_eval_sets import SOURCES, EvalSet, counts, file_name, file_names, write_all
from tests.conftest import ROOT
from training.reader.splits import DATA, squad11_split, tydi_split

pytestmark = pytest.mark.skipif(not DATA.is_dir(), reason=f"no public data in {DATA}")


def _files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[EvalSet]]:
    out = tmp_path_factory.mktemp("eval")
    return out, write_all(out, DATA)


def _titles(sets: list[EvalSet], folder: str, split: str) -> set[str]:
    [match] = [s for s in sets if s.source.folder == folder and s.split == split]
    return {a["title"] for a in match.articles}


def test_splits_are_disjoint_by_article_and_follow_the_rules(written) -> None:
    _, sets = written
    for folder in ("squad2", "tydi"):
        assert not _titles(sets, folder, "dev") & _titles(sets, folder, "calibrate")
    assert all(tydi_split(t) == "dev" for t in _titles(sets, "tydi", "dev"))
    assert all(tydi_split(t) == "calibrate" for t in _titles(sets, "tydi", "calibrate"))
    assert all(squad11_split(t) == "calibrate" for t in _titles(sets, "squad11", "calibrate"))
    assert len(_titles(sets, "squad2", "dev")) == 7
    # 13 articles, minus American Broadcasting Company: a TyDi QA training title
    assert len(_titles(sets, "squad11-dev-extra", "dev")) == 12
    assert len(_titles(sets, "squadshifts", "dev")) == 8
    # no article in two sets of one data set, and no question in two sets at all
    pairs = [(s.source.files, a["title"]) for s in sets for a in s.articles]
    assert len(pairs) == len(set(pairs))
    ids = [q["id"] for s in sets for a in s.articles for p in a["paragraphs"] for q in p["qas"]]
    assert len(ids) == len(set(ids))


def test_no_dev_article_is_trained_or_tuned_on_under_another_data_set(written) -> None:
    from scripts.make_eval_sets import _key, used_titles

    _, sets = written
    used = used_titles(DATA)
    for s in sets:
        titles = {_key(a["title"]) for a in s.articles}
        assert not titles & used["train"], s.source.folder
        if s.split == "dev":
            assert not titles & used["calibrate"], s.source.folder
    assert "energy" in used["train"]  # a SQuAD 1.1 training article, also a TyDi title
    assert "energy" not in {_key(a["title"]) for a in sets[2].articles}  # tydi dev


def test_every_answer_occurs_in_its_document_file(written) -> None:
    out, sets = written
    for eval_set in sets:
        folder = out / eval_set.source.folder / eval_set.split
        names = file_names(eval_set.articles)
        assert {p.name for p in folder.glob("*.md")} == set(names.values())
        for article in eval_set.articles:
            text = (folder / names[article["title"]]).read_text(encoding="utf-8")
            assert text.startswith(f"# {article['title'].replace('_', ' ')}\n\n")
            for paragraph in article["paragraphs"]:
                assert paragraph["context"].strip() in text
                for qa in paragraph["qas"]:
                    for answer in qa.get("answers", []):
                        assert answer["text"].strip() in text, (qa["id"], answer["text"])


def test_every_set_loads_in_the_eval_with_its_counts(written) -> None:
    out, sets = written
    for eval_set in sets:
        _, questions, unanswerable = counts(eval_set)
        rows = load_dataset(out / eval_set.source.folder / f"{eval_set.split}.json")
        assert len(rows) == questions
        assert sum(not r.answerable for r in rows) == unanswerable
    squad2_dev = [s for s in sets if s.source.folder == "squad2" and s.split == "dev"]
    assert counts(squad2_dev[0])[2] > 0  # SQuAD 2.0 keeps its unanswerable questions
    readme = (out / "squadshifts" / "README.md").read_text(encoding="utf-8")
    assert "the first 8 of its 48 articles in title order" in readme
    assert "CC BY 4.0" in readme and "never tuned on" in readme


def test_rerunning_rewrites_identical_files_and_drops_stale_documents(written) -> None:
    out, _ = written
    before = _files(out)
    (out / "tydi" / "dev" / "Stale_article.md").write_text("# Stale\n", encoding="utf-8")
    write_all(out, DATA)
    assert _files(out) == before


def test_the_committed_sets_are_what_the_script_writes(written) -> None:
    out, _ = written
    for source in SOURCES:
        assert _files(ROOT / "eval" / source.folder) == _files(out / source.folder), (
            f"eval/{source.folder} is stale: run python -m scripts.make_eval_sets"
        )


def test_file_names_are_portable_and_keep_plain_titles() -> None:
    assert file_name("Harvard_University") == "Harvard_University.md"
    titles = ["Sky_(United_Kingdom)", "AC/DC", "Beyoncé", "Tucson,_Arizona", "Tucson, Arizona"]
    names = [file_name(t) for t in titles]
    assert all(re.fullmatch(r"[A-Za-z0-9_-]+\.md", n) for n in names)
    assert len({n.lower() for n in names}) == len(names)
    assert names[2].startswith("Beyonce-")
    with pytest.raises(ValueError, match="share the file name"):
        file_names([{"title": "Oxygen"}, {"title": "OXYGEN"}])


def test_squad2_sets_keep_the_squad2_format() -> None:
    data = json.loads((ROOT / "eval" / "squad2" / "dev.json").read_text(encoding="utf-8"))
    assert data["version"] == "v2.0" and data["split"] == "dev"
    assert any(
        q.get("is_impossible") for a in data["data"] for p in a["paragraphs"] for q in p["qas"]
    )
