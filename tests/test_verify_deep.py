"""``verify --deep``: every text against its ``text_sha256``, which the fingerprint uses."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from policyspeech.store import Corpus
from policyspeech.verify import _check_texts
from tests.helpers import make_speech


def test_deep_verify_passes_on_a_sound_corpus_and_names_a_forged_text(
        corpus: Corpus, tmp_path: Path) -> None:
    corpus.add_all([make_speech(n) for n in range(3)])
    corpus.release("major")
    assert corpus.verify(deep=True) == []
    [fragment] = corpus.fragment_paths()
    table = pq.read_table(fragment)
    texts = table["text"].to_pylist()
    texts[1] = texts[1].replace("speech", "spech")  # its text_sha256 left as it was
    forged = tmp_path / "forged.parquet"
    pq.write_table(table.set_column(table.schema.get_field_index("text"), "text",
                                    pa.array(texts)), forged)
    [problem] = _check_texts(forged)
    assert f"the text of '{table['id'][1]}' does not match its text_sha256" in problem
    assert _check_texts(fragment) == []


def test_only_deep_verify_recomputes_the_fingerprints(
        corpus: Corpus, monkeypatch: pytest.MonkeyPatch) -> None:
    import policyspeech.releases as releases

    corpus.add(make_speech(1))
    corpus.release("major")
    recorded = corpus.manifest("1.0.0")["fingerprint"]
    monkeypatch.setattr(releases, "fingerprint_paths", lambda *args: "0" * 64)
    assert corpus.verify() == []
    [problem] = corpus.verify(deep=True)
    assert f"fingerprint of the records is {'0' * 64}, the manifest says {recorded}" in problem
