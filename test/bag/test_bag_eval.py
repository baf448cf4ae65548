"""bag-eval on generated bags: pairs, metrics, output bag, malformed input, clear errors."""

from __future__ import annotations

import json

import cv2
import pytest

from sccosf_ros.bag.bag_eval import BagEvalConfig, evaluate_bag
from sccosf_ros.bag.bag_io import BagError, BagReader, stamp_ns
from sccosf_ros.classes import MFNET_CLASSES
from sccosf_ros.cli import main as sccosf_main
from sccosf_ros.pipeline.image_codec import decode_image
from sccosf_ros.pipeline.outputs import OUTPUT_NAMES as OUTPUTS
from sccosf_ros.pipeline.params import NodeParams
from sccosf_ros.synthetic import THERMAL_COUNTS, write_synthetic_bag

SEC = 1_000_000_000
H, W = 40, 56


def _params(ckpt, **values):
    """The node's parameters for these tests: CPU, the synthetic data's thermal range."""
    return NodeParams.from_dict(
        {
            "checkpoint": str(ckpt),
            "device": "cpu",
            "backend": "torch",  # bag reading and metrics; test_bag_eval_backends: runtimes
            "thermal.normalization": "fixed",
            "thermal.low": float(THERMAL_COUNTS[0]),
            "thermal.high": float(THERMAL_COUNTS[1]),
            **values,
        }
    )


def _config(bag, ckpt, out, **kw):
    c = bag.config
    return BagEvalConfig(
        bag=bag.path,
        rgb_topic=c.rgb_topic,
        thermal_topic=c.thermal_topic,
        label_topic=c.label_topic,
        out=out,
        params=_params(ckpt),
        progress=False,
        **kw,
    )


def _nearest_rgb(bag) -> list[int]:
    """For every thermal frame, the RGB stamp closest to it (what the sync must pair)."""
    return [min(bag.rgb_stamps, key=lambda s, t=t: abs(s - t)) for t in bag.thermal_stamps]


@pytest.mark.parametrize("storage", ["sqlite3", "mcap"])
def test_bag_eval_pairs_metrics_and_output_bag(tmp_path, nano_checkpoint, one_thread, storage):
    # RGB 10 Hz, thermal 5 Hz 4 ms later: each thermal frame pairs with exactly one RGB frame
    bag = write_synthetic_bag(
        tmp_path / "in",
        storage=storage,
        duration=1.0,
        rgb_rate=10.0,
        thermal_rate=5.0,
        thermal_offset=0.004,
        height=H,
        width=W,
        show_progress=False,
    )
    out = tmp_path / "eval"
    m = evaluate_bag(_config(bag, nano_checkpoint, out))
    c = bag.config

    assert m["pairs"] == 5
    assert m["unmatched"] == {c.rgb_topic: 5, c.thermal_topic: 0, c.label_topic: 5}
    assert m["malformed"] == {c.rgb_topic: 0, c.thermal_topic: 0, c.label_topic: 0}
    sync = {k: m["sync"][k] for k in ("slop", "queue_size", "jump_reset", "resets")}
    assert sync == {"slop": 0.05, "queue_size": 10, "jump_reset": 1.0, "resets": []}
    # the node's sync figures too: 5 RGB frames still queued at the end, none trimmed
    assert m["sync"]["unpaired"] == {"rgb": 0, "thermal": 0}
    assert m["storage"] == storage
    assert m["labelled_pairs"] == 5
    assert 0.0 <= m["miou"] <= 1.0
    assert set(m["iou"]) == set(MFNET_CLASSES)
    assert m["throughput_pairs_per_s"] > 0
    assert m["latency_ms"]["total"]["n"] == 5
    assert 0.0 <= m["fusion"]["EN"] <= 8.0 and m["fusion"]["SD"] >= 0.0
    assert set(m["fusion_sampled"]) >= {
        "EN",
        "SD",
        "SF",
        "AG",
        "MI",
        "SCD",
        "VIF",
        "Qabf",
        "SSIM",
        "n_frames",
    }
    on_disk = json.loads((out / "metrics.json").read_text())
    assert on_disk["pairs"] == 5 and on_disk["miou"] == pytest.approx(m["miou"])

    sheet = cv2.imread(str(out / "contact_sheet.png"))
    assert sheet is not None and sheet.shape[1] > 5 * 200  # 5 columns incl. ground truth

    expected = _nearest_rgb(bag)
    with BagReader(m["output_bag"]) as r:
        assert r.storage == storage
        counts = {t: s.count for t, s in r.topics().items()}
        assert counts == {f"/sccosf/{name}": 5 for name in OUTPUTS}
        for name, enc in (
            ("fused", "rgb8"),
            ("segmentation", "mono8"),
            ("segmentation_color", "rgb8"),
            ("overlay", "rgb8"),
        ):
            msgs = [
                (log, r.deserialize(raw, ty))
                for _, ty, log, raw in r.messages([f"/sccosf/{name}"])
            ]
            assert [stamp_ns(msg) for _, msg in msgs] == expected
            # logged at the RGB message's log time, header copied from the RGB message
            assert [log for log, _ in msgs] == [
                s + round(c.transport_delay * SEC) for s in expected
            ]
            for _, msg in msgs:
                assert msg.encoding == enc and msg.header.frame_id == c.rgb_frame
                assert (msg.height, msg.width) == (H, W)
            if name == "segmentation":
                assert decode_image(msgs[0][1]).max() < len(MFNET_CLASSES)


def test_malformed_messages_and_thermal_gap_are_counted(tmp_path, nano_checkpoint, one_thread):
    bag = write_synthetic_bag(
        tmp_path / "in",
        storage="mcap",
        duration=2.0,
        rgb_rate=10.0,
        thermal_rate=10.0,
        thermal_offset=0.004,
        height=H,
        width=W,
        malformed=4,
        thermal_gap=(0.5, 1.0),
        show_progress=False,
    )
    c = bag.config
    m = evaluate_bag(_config(bag, nano_checkpoint, tmp_path / "eval", write_bag=False))
    assert len(bag.thermal_stamps) == 15
    assert m["pairs"] == 15  # every good thermal frame, none inside the gap
    assert m["malformed"] == {c.rgb_topic: 4, c.thermal_topic: 4, c.label_topic: 0}
    assert m["messages"] == {c.rgb_topic: 24, c.thermal_topic: 19, c.label_topic: 20}
    assert m["unmatched"][c.rgb_topic] == 5 and m["unmatched"][c.thermal_topic] == 0
    assert m["labelled_pairs"] == 15
    reasons = " ".join(m["malformed_reasons"])
    assert "truncated" in reasons and "unknown image encoding" in reasons
    assert "undecodable CDR" in reasons and "zero size" in reasons
    assert m["output_bag"] is None


def test_max_pairs_and_no_labels(tmp_path, nano_checkpoint, one_thread):
    bag = write_synthetic_bag(
        tmp_path / "in",
        storage="sqlite3",
        duration=1.0,
        rgb_rate=10.0,
        thermal_rate=10.0,
        height=H,
        width=W,
        label_topic=None,
        show_progress=False,
    )
    m = evaluate_bag(_config(bag, nano_checkpoint, tmp_path / "eval", max_pairs=3))
    assert m["pairs"] == 3
    assert "miou" not in m and "iou" not in m
    with BagReader(m["output_bag"]) as r:
        assert {s.count for s in r.topics().values()} == {3}


def test_missing_topic_lists_the_bag_topics(tmp_path, nano_checkpoint, capsys):
    bag = write_synthetic_bag(
        tmp_path / "in", duration=0.3, height=H, width=W, show_progress=False
    )
    c = bag.config
    with pytest.raises(BagError) as e:
        evaluate_bag(
            BagEvalConfig(
                bag=bag.path,
                rgb_topic=c.rgb_topic,
                thermal_topic="/flir/image_raw",
                out=tmp_path / "eval",
                params=_params(nano_checkpoint),
                progress=False,
            )
        )
    text = str(e.value)
    assert "/flir/image_raw" in text and c.rgb_topic in text and c.thermal_topic in text
    assert not (tmp_path / "eval").exists()  # fails before any output is written

    code = sccosf_main(
        [
            "bag-eval",
            "--backend",
            "torch",
            str(bag.path),
            "--checkpoint",
            str(nano_checkpoint),
            "--rgb-topic",
            c.rgb_topic,
            "--thermal-topic",
            "/flir/image_raw",
            "--out",
            str(tmp_path / "eval2"),
            "--quiet",
        ]
    )
    err = capsys.readouterr().err
    assert code == 2 and "/flir/image_raw" in err and c.thermal_topic in err


def test_clear_errors_for_missing_bag_and_checkpoint(tmp_path, nano_checkpoint, capsys):
    code = sccosf_main(
        [
            "bag-eval",
            "--backend",
            "torch",
            str(tmp_path / "nobag"),
            "--checkpoint",
            str(nano_checkpoint),
            "--rgb-topic",
            "/a",
            "--thermal-topic",
            "/b",
            "--out",
            str(tmp_path / "o"),
        ]
    )
    assert code == 2 and "does not exist" in capsys.readouterr().err
    bag = write_synthetic_bag(
        tmp_path / "in", duration=0.3, height=H, width=W, show_progress=False
    )
    c = bag.config
    code = sccosf_main(
        [
            "bag-eval",
            "--backend",
            "torch",
            str(bag.path),
            "--checkpoint",
            str(tmp_path / "no.pt"),
            "--rgb-topic",
            c.rgb_topic,
            "--thermal-topic",
            c.thermal_topic,
            "--out",
            str(tmp_path / "o"),
        ]
    )
    assert code == 2 and "checkpoint" in capsys.readouterr().err


def test_cli_end_to_end_and_no_silent_overwrite(tmp_path, nano_checkpoint, one_thread, capsys):
    bag = write_synthetic_bag(
        tmp_path / "in",
        storage="mcap",
        duration=0.4,
        rgb_rate=10.0,
        thermal_rate=10.0,
        height=H,
        width=W,
        show_progress=False,
    )
    c = bag.config
    args = [
        "bag-eval",
        "--backend",
        "torch",
        str(bag.path),
        "--checkpoint",
        str(nano_checkpoint),
        "--rgb-topic",
        c.rgb_topic,
        "--thermal-topic",
        c.thermal_topic,
        "--label-topic",
        c.label_topic,
        "--out",
        str(tmp_path / "o"),
        "--device",
        "cpu",
        "--thermal-norm",
        "fixed",
        "--thermal-range",
        str(THERMAL_COUNTS[0]),
        str(THERMAL_COUNTS[1]),
        "--input-size",
        "32",
        "48",
        "--quiet",
    ]
    assert sccosf_main(args) == 0
    printed = capsys.readouterr().out
    assert "pairs: 4" in printed and "mIoU" in printed and "contact_sheet.png" in printed
    m = json.loads((tmp_path / "o" / "metrics.json").read_text())
    assert m["input_size"] == [32, 48] and m["thermal_norm"]["mode"] == "fixed"
    assert sccosf_main(args) == 2  # the output bag exists: refuse, keep it
    assert "--overwrite" in capsys.readouterr().err
    assert sccosf_main([*args, "--overwrite"]) == 0


def test_no_bag_leaves_an_existing_output_bag_and_errors_come_before_the_model(
    tmp_path, nano_checkpoint, one_thread, capsys
):
    bag = write_synthetic_bag(
        tmp_path / "in",
        duration=0.3,
        rgb_rate=10.0,
        thermal_rate=10.0,
        height=H,
        width=W,
        show_progress=False,
    )
    c = bag.config
    base = [
        "bag-eval",
        "--backend",
        "torch",
        str(bag.path),
        "--rgb-topic",
        c.rgb_topic,
        "--thermal-topic",
        c.thermal_topic,
        "--out",
        str(tmp_path / "o"),
        "--quiet",
    ]
    assert sccosf_main([*base, "--checkpoint", str(nano_checkpoint), "--device", "cpu"]) == 0
    out_bag = tmp_path / "o" / "in_sccosf"
    assert out_bag.is_dir()
    # the existing output bag is the error, before a (here missing) checkpoint is loaded
    assert sccosf_main([*base, "--checkpoint", str(tmp_path / "missing.pt")]) == 2
    err = capsys.readouterr().err
    assert "--overwrite" in err and "missing.pt" not in err
    # --no-bag writes no bag and leaves the existing one alone
    args = [*base, "--checkpoint", str(nano_checkpoint), "--device", "cpu", "--no-bag"]
    assert sccosf_main(args) == 0
    assert out_bag.is_dir()
    for flag, value in (("--label-tolerance", "-1"), ("--sheet-rows", "0")):
        assert sccosf_main([*args, flag, value]) == 2
        assert flag in capsys.readouterr().err


class _FailsOnce:
    """A real predictor whose second pair raises inside the model (an OOM, a driver error)."""

    def __init__(self, inner):
        self.inner, self.calls = inner, 0
        for name in ("class_names", "palette", "thermal_norm", "device", "dataset"):
            setattr(self, name, getattr(inner, name))

    def predict(self, rgb, thermal):
        self.calls += 1
        if self.calls == 2:
            raise RuntimeError("CUDA out of memory (simulated)")
        return self.inner.predict(rgb, thermal)


def test_a_pair_failing_in_the_model_is_counted_and_the_run_goes_on(
    tmp_path, nano_checkpoint, one_thread
):
    from sccosf_ros.inference import Predictor

    bag = write_synthetic_bag(
        tmp_path / "in",
        duration=0.5,
        rgb_rate=10.0,
        thermal_rate=10.0,
        height=H,
        width=W,
        show_progress=False,
    )
    cfg = _config(bag, nano_checkpoint, tmp_path / "eval", write_bag=False)
    inner = Predictor.from_checkpoint(
        nano_checkpoint, "cpu", thermal_norm=cfg.params.thermal_norm()
    )
    m = evaluate_bag(cfg, predictor=_FailsOnce(inner))
    assert m["inference_errors"] == 1 and m["pairs"] == 4 and m["complete"]
    assert any("out of memory" in r for r in m["malformed_reasons"])
    assert set(m["sync"]["unpaired"]) == {"rgb", "thermal"}


def _compressed_label_twin(bag, path, encoding: str):
    """A copy of ``bag`` whose labels are PNG ``CompressedImage`` on ``<label>/compressed``
    (``encoding`` mono8 or mono16), as image_transport's compressed plugin records them."""
    import numpy as np

    from sccosf_ros.bag.bag_io import BagWriter
    from sccosf_ros.pipeline.compressed import COMPRESSED_IMAGE, encode_compressed

    lab = bag.config.label_topic
    with BagReader(bag.path) as r, BagWriter(path, r.storage, r.typestore) as w:
        for topic, msgtype, t, raw in r.messages():
            if topic != lab:
                w.write_raw(topic, t, raw, msgtype)
                continue
            msg = r.deserialize(raw, msgtype)
            ids = decode_image(msg).astype(np.uint16 if encoding == "mono16" else np.uint8)
            cls = w.types()[COMPRESSED_IMAGE]
            png = encode_compressed(ids, encoding, "png", header=msg.header, msg_type=cls)
            w.write(f"{lab}/compressed", t, png)


@pytest.mark.parametrize("encoding", ["mono8", "mono16"])
def test_compressed_png_labels_score_like_raw_labels(
    tmp_path, nano_checkpoint, one_thread, capsys, encoding
):
    bag = write_synthetic_bag(
        tmp_path / "raw" / "rec",
        storage="mcap",
        duration=1.0,
        rgb_rate=10.0,
        thermal_rate=10.0,
        thermal_offset=0.004,
        height=H,
        width=W,
        show_progress=False,
    )
    twin = tmp_path / "png" / "rec"
    _compressed_label_twin(bag, twin, encoding)
    c = bag.config
    with BagReader(twin) as r:
        assert r.topics()[f"{c.label_topic}/compressed"].msgtype.endswith("CompressedImage")
        assert c.label_topic not in r.topics()
    got = {}
    for name, path in (("raw", bag.path), ("png", twin)):
        args = ["bag-eval", str(path), "--backend", "torch", "--checkpoint", str(nano_checkpoint)]
        args += ["--rgb-topic", c.rgb_topic, "--thermal-topic", c.thermal_topic]
        args += ["--label-topic", c.label_topic, "--out", str(tmp_path / f"o_{name}")]
        args += ["--device", "cpu", "--thermal-norm", "fixed", "--thermal-range"]
        args += [str(THERMAL_COUNTS[0]), str(THERMAL_COUNTS[1]), "--input-size", "32", "48"]
        assert sccosf_main([*args, "--quiet"]) == 0, capsys.readouterr().err
        got[name] = json.loads((tmp_path / f"o_{name}" / "metrics.json").read_text())
    raw, png = got["raw"], got["png"]
    assert png["topics"]["label"] == f"{c.label_topic}/compressed"  # the base name was given
    assert raw["labelled_pairs"] == png["labelled_pairs"] == 10
    assert png["malformed"][png["topics"]["label"]] == 0
    assert png["miou"] == raw["miou"] and png["iou"] == raw["iou"]


def _ffc_twin(bag, path, frozen: set[int], shutter: set[int]) -> list[int]:
    """A copy of ``bag`` whose thermal frames at ``frozen`` repeat the previous thermal frame's
    pixels and at ``shutter`` show a closed shutter (one temperature plus noise), each with its
    own stamp, as a camera in flat-field correction publishes them. Returns the stamps (ns) of
    the frames left good."""
    import numpy as np

    from sccosf_ros.bag.bag_io import BagWriter
    from sccosf_ros.pipeline.image_codec import encode_image

    rng = np.random.default_rng(5)
    good, previous, index = [], None, 0
    th = bag.config.thermal_topic
    with BagReader(bag.path) as r, BagWriter(path, r.storage, r.typestore) as w:
        for topic, msgtype, t, raw in r.messages():
            if topic != th:
                w.write_raw(topic, t, raw, msgtype)
                continue
            msg = r.deserialize(raw, msgtype)
            pixels = decode_image(msg)
            if index in frozen:
                pixels = previous
            elif index in shutter:
                pixels = (8000 + rng.normal(0, 3, pixels.shape)).astype(np.uint16)
            else:
                good.append(stamp_ns(msg))
            cls = w.types()[msgtype]
            w.write(th, t, encode_image(pixels, msg.encoding, header=msg.header, msg_type=cls))
            previous, index = pixels, index + 1
    return good


def test_ffc_frames_are_skipped_counted_and_never_fused(tmp_path, nano_checkpoint, one_thread):
    from dataclasses import replace

    # 10 Hz both ways, 3 s: two shutter closures 1.2 s apart, 3 frames each (frozen first,
    # then the closed shutter; then the shutter, and a frozen repeat of it)
    bag = write_synthetic_bag(
        tmp_path / "in",
        storage="mcap",
        duration=3.0,
        rgb_rate=10.0,
        thermal_rate=10.0,
        thermal_offset=0.004,
        height=H,
        width=W,
        show_progress=False,
    )
    twin = tmp_path / "ffc" / "rec"
    good = _ffc_twin(bag, twin, frozen={8, 22}, shutter={9, 10, 20, 21})
    assert len(bag.thermal_stamps) == 30 and len(good) == 24
    cfg = replace(
        _config(bag, nano_checkpoint, tmp_path / "eval"),
        bag=twin,
        params=_params(nano_checkpoint, **{"thermal.ffc.frozen": True}),
    )
    m = evaluate_bag(cfg)
    c = bag.config
    assert m["pairs"] == 24  # every good frame, none of the 6 FFC frames
    assert m["thermal_ffc"]["frames"] == 6 and m["thermal_ffc"]["events"] == 2
    assert m["thermal_ffc"]["mean_interval_s"] == pytest.approx(1.2)
    assert m["malformed"] == {c.rgb_topic: 0, c.thermal_topic: 0, c.label_topic: 0}
    assert m["unmatched"] == {c.rgb_topic: 6, c.thermal_topic: 0, c.label_topic: 6}
    assert m["malformed_reasons"] == []
    on_disk = json.loads((tmp_path / "eval" / "metrics.json").read_text())
    assert on_disk["thermal_ffc"] == m["thermal_ffc"]
    from sccosf_ros.commands.bag_eval import summary

    assert "flat-field correction: 6 thermal frames skipped in 2 shutter events, every 1.2 s" in (
        summary(m)
    )
    # the outputs: exactly the RGB frames beside a good thermal frame
    expected = [min(bag.rgb_stamps, key=lambda s, t=t: abs(s - t)) for t in good]
    with BagReader(m["output_bag"]) as r:
        fused = [
            stamp_ns(r.deserialize(raw, ty)) for _, ty, _, raw in r.messages(["/sccosf/fused"])
        ]
    assert fused == expected
    # checks off: the same bag pairs every frame, FFC frames included
    off = replace(
        cfg,
        out=tmp_path / "eval_off",
        write_bag=False,
        params=_params(nano_checkpoint, **{"thermal.ffc.min_spread": 0.0}),
    )
    m = evaluate_bag(off)
    assert m["pairs"] == 30 and m["thermal_ffc"]["frames"] == 0
