"""The cascade: a linear gate routes units to a transformer reader; decisions equal the full product of experts."""

import json
import shutil

import numpy as np
import pytest

pytest.importorskip("torch")

import lo_signals
from lo_signals.finetuning import FinetuneConfig, finetune
from lo_signals.scorers.cascade import CascadeScorer
from lo_signals.scorers.linear import LinearScorer


@pytest.fixture(scope="module")
def parts(tiny_bert, tiny_path, tiny_rows, tmp_path_factory):
    from lo_signals.corpus import read_labelled

    data = read_labelled(tiny_path)
    gate = LinearScorer(features="tfidf", C=4.0).fit(data.texts, data.y, aspirations=data.a)
    reader_dir = tmp_path_factory.mktemp("reader") / "reader"
    finetune(tiny_path, tiny_path, reader_dir, FinetuneConfig(base=str(tiny_bert), epochs=1, max_steps=3, batch_size=8, device="cpu"))
    return gate, lo_signals.load(reader_dir), [r["text"] for r in tiny_rows]


def test_decisions_equal_the_full_product_of_experts_and_only_routed_units_are_read(parts, monkeypatch):
    gate, reader, texts = parts
    full = np.sqrt(gate.predict_proba(texts) * reader.predict_proba(texts))
    read: list[str] = []
    real = type(reader)._proba

    def counting(self, batch):
        read.extend(batch)
        return real(self, batch)

    monkeypatch.setattr(type(reader), "_proba", counting)
    rng = np.random.default_rng(0)
    skipped = 0
    for _ in range(5):
        t = rng.uniform(0.2, 0.7, size=5)
        cascade = CascadeScorer.from_parts(gate, reader, t)
        read.clear()
        p = cascade.predict_proba(texts)
        assert ((p >= t) == (full >= t)).all()
        sent = cascade.routes(gate.predict_proba(texts))
        assert len(read) == sent.sum()
        skipped += int((~sent).sum())
        # A unit the reader never saw keeps the gate's probability, below every threshold.
        assert (p[~sent] < t).all()
        np.testing.assert_allclose(p[sent], full[sent], atol=1e-9)
        assert cascade.routed_share_ == pytest.approx(sent.mean())
    assert skipped > 0, "the gate must spare the reader some units"
    # Aspirations are the gate's own.
    np.testing.assert_allclose(cascade.predict_aspirations_proba(texts), gate.predict_aspirations_proba(texts))


def test_save_load_round_trip_and_tampered_parts_are_refused(parts, tmp_path):
    gate, reader, texts = parts
    cascade = CascadeScorer.from_parts(gate, reader, [0.4] * 5)
    path = cascade.save(tmp_path / "casc", name="casc", description="test cascade")
    meta = json.loads((path / "meta.json").read_text())
    assert meta["backend"] == "cascade" and set(meta["parts"]) == {"gate", "reader"}
    again = lo_signals.load(path)
    np.testing.assert_allclose(again.predict_proba(texts), cascade.predict_proba(texts), atol=1e-6)
    assert again.predict(texts) == cascade.predict(texts)

    changed = tmp_path / "changed"
    shutil.copytree(path, changed)
    reader_meta = json.loads((changed / "reader" / "meta.json").read_text())
    reader_meta["thresholds"] = [0.01] * 5
    (changed / "reader" / "meta.json").write_text(json.dumps(reader_meta))
    with pytest.raises(ValueError, match="changed since the cascade was saved"):
        lo_signals.load(changed)

    swapped = tmp_path / "swapped"
    shutil.copytree(path, swapped)
    m = json.loads((swapped / "meta.json").read_text())
    m["parts"]["gate"]["backend"] = "transformer"
    (swapped / "meta.json").write_text(json.dumps(m))
    with pytest.raises(ValueError, match="gate must be"):
        lo_signals.load(swapped)


def test_parts_must_be_a_linear_gate_and_a_transformer_reader_with_the_same_labels(parts):
    gate, reader, _ = parts
    with pytest.raises(ValueError, match="gate must be a linear"):
        CascadeScorer.from_parts(reader, reader, [0.5] * 5)
    with pytest.raises(ValueError, match="one threshold"):
        CascadeScorer.from_parts(gate, reader, [0.5] * 4)
    with pytest.raises(ValueError, match="one threshold"):
        CascadeScorer.from_parts(gate, reader, [0.0] * 5)


def test_cli_builds_a_cascade_from_a_gate_and_a_reader(parts, tmp_path):
    from typer.testing import CliRunner

    from lo_signals.cli import app

    gate, reader, texts = parts
    gate_dir = gate.save(tmp_path / "gate", name="gate")
    res = CliRunner().invoke(app, ["cascade", "--reader", reader.path_, "--gate", str(gate_dir), "--out", str(tmp_path / "c"),
                                   "--threshold", "0.35"])
    assert res.exit_code == 0, res.output
    model = lo_signals.load(tmp_path / "c")
    assert list(model.thresholds_) == [0.35] * 5 and model.backend == "cascade"
    expected = CascadeScorer.from_parts(gate, reader, [0.35] * 5).predict(texts)
    assert model.predict(texts) == expected
    bad = CliRunner().invoke(app, ["cascade", "--reader", str(gate_dir), "--out", str(tmp_path / "d")])
    assert bad.exit_code == 2 and "reader must be a transformer" in bad.output


def test_bundled_cascade_pins_the_shipped_default_as_its_gate_and_records_its_audit():
    from lo_signals._hashing import file_sha256
    from lo_signals.models import bundled_models_dir

    root = bundled_models_dir()
    cascade = lo_signals.load("cascade")
    assert cascade.backend == "cascade" and cascade.reader_.backend == "transformer"
    # The gate is the shipped default, byte for byte.
    assert file_sha256(root / "cascade" / "gate" / "model.skops") == file_sha256(root / "default" / "model.skops")
    texts = ["After the audit we changed the handover checklist and falls dropped.", "The meeting closed at nine.",
             "Managers blamed the junior nurse for the error.", "We are committed to openness."]
    gate_p = lo_signals.load("default").predict_proba(texts)
    p = cascade.predict_proba(texts)
    sent = cascade.routes(gate_p)
    np.testing.assert_allclose(p[~sent], gate_p[~sent])
    assert (p[sent] <= np.sqrt(gate_p[sent]) + 1e-12).all()
    meta = cascade.meta_
    # Its card leads with precision measured on the audit pool, and its thresholds came from the dev pool.
    assert meta["natural_prevalence"]["pool"] == "audit_pool" and meta["natural_prevalence"]["all"]["judged"] >= 30
    assert meta["threshold_source"]["file"] == "corpora/audit/thresholds-cascade.json"
    assert "Precision at natural prevalence" in (root / "cascade" / "README.md").read_text()


def test_swapping_a_cascade_part_changes_its_fingerprint(parts, tmp_path):
    import lo_signals.outdir as outdir

    gate, reader, _ = parts
    first = CascadeScorer.from_parts(gate, reader, [0.4] * 5).save(tmp_path / "a", name="a")
    second = tmp_path / "b"
    shutil.copytree(first, second)
    m = json.loads((second / "meta.json").read_text())
    m["parts"]["reader"]["meta_sha256"] = "0" * 64  # what a cascade with another reader records
    (second / "meta.json").write_text(json.dumps(m))
    a = lo_signals.load(first)
    b = CascadeScorer.from_parts(gate, reader, [0.4] * 5)
    b.meta_, b.path_ = m, str(second)
    assert outdir.model_fingerprint(a) != outdir.model_fingerprint(b)
    assert outdir.model_fingerprint(a) == outdir.model_fingerprint(lo_signals.load(first))


def test_only_units_the_reader_reads_are_truncated(parts):
    gate, reader, _ = parts
    long_text = "They blamed the nurse. " * 60  # longer than the reader's tokens
    cascade = CascadeScorer.from_parts(gate, reader, [0.05] * 5)
    texts = [long_text, "short and calm."]
    routed = cascade.routes(gate.predict_proba(texts))
    assert reader.truncated(texts)[0] is True
    assert cascade.truncated(texts) == [bool(routed[0]), False]
    # With thresholds no unit can reach, nothing is routed, so nothing is read in part.
    never = CascadeScorer.from_parts(gate, reader, [1.0] * 5)
    assert not never.routes(gate.predict_proba(texts)).any()
    assert never.truncated(texts) == [False, False] and never.text_warnings(texts) == [None, None]
