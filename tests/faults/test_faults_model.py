"""Faults in model files: corrupted weights, unsafe or crafted contents, another quantity, disk full on save."""

from __future__ import annotations

import shutil
import struct
import zipfile
from pathlib import Path, PurePosixPath

import pytest
import torch
from harness import Run, assert_refused, sstfill

LOCAL_HEADER = struct.Struct("<4s22xHH")  # a zip local file header: signature ... name length, extra length


def largest_member_data(path: Path) -> tuple[int, int]:
    """(offset, size) of the bytes of the largest member of a zip archive: a model file's biggest tensor."""
    with zipfile.ZipFile(path) as archive:
        member = max(archive.infolist(), key=lambda info: info.compress_size)
    with open(path, "rb") as stream:
        stream.seek(member.header_offset)
        signature, name_length, extra_length = LOCAL_HEADER.unpack(stream.read(LOCAL_HEADER.size))
    assert signature == b"PK\x03\x04"
    return member.header_offset + LOCAL_HEADER.size + name_length + extra_length, member.compress_size


def corrupt_copy(model: Path, out: Path, byte: int, count: int = 256) -> Path:
    """A copy of a model file with `count` bytes in the middle of its largest tensor set to `byte`."""
    shutil.copyfile(model, out)
    offset, size = largest_member_data(out)
    assert size > count
    with open(out, "r+b") as stream:
        stream.seek(offset + size // 2 - count // 2)
        stream.write(bytes([byte]) * count)
    return out


def crafted_copy(model: Path, out: Path, edit) -> Path:
    """A model file re-written by torch.save (so its zip CRCs hold) after `edit` changed its payload."""
    payload = torch.load(model, weights_only=True)
    edit(payload)
    torch.save(payload, out)
    return out


def reconstruct_with(model: Path, daily: Path, out_dir: Path) -> Run:
    return sstfill("reconstruct", daily, out_dir / "monthly.nc", "--model", model, "--device", "cpu")


@pytest.mark.slow
def test_corrupted_weights_are_refused(tiny_model, one_month, out_dir, tmp_path):
    # Bytes flipped on disk or in a copy (zip CRCs), and weights altered in a file re-written
    # with valid CRCs (the checksum recorded at save time).
    def scale_largest_tensor(payload):
        state = payload["state_dict"]
        largest = max(state, key=lambda name: state[name].numel())
        state[largest] *= 1e30

    damaged = [corrupt_copy(tiny_model, tmp_path / "ff.pt", 0xFF), corrupt_copy(tiny_model, tmp_path / "7f.pt", 0x7F),
               crafted_copy(tiny_model, tmp_path / "altered.pt", scale_largest_tensor)]
    messages = ["fails the zip CRC check", "fails the zip CRC check", "do not match the checksum"]
    for model, found in zip(damaged, messages, strict=True):
        line = assert_refused(reconstruct_with(model, one_month, out_dir), [str(model), "is corrupt", found], out_dir)
        assert "copy the file again or retrain it" in line


def test_an_unsafe_model_file_is_refused_without_suggesting_unsafe_loading(one_month, out_dir, tmp_path):
    model = tmp_path / "pickled.pt"
    torch.save({"format": "sstfill-model", "note": PurePosixPath("runs code when unpickled")}, model)
    run = reconstruct_with(model, one_month, out_dir)
    # assert_refused also fails on any mention of weights_only=False
    assert_refused(run, [str(model), "found Python objects (pathlib.PurePosixPath)", "never loads"], out_dir)
    assert "weights_only" not in run.stderr


@pytest.mark.slow
def test_crafted_model_files_are_refused(tiny_model, one_month, out_dir, tmp_path):
    def drop(key):
        return lambda payload: payload.pop(key)

    def set_contract(key, value):
        return lambda payload: payload["contract"].update({key: value})

    cases = {
        "no_state_dict": (drop("state_dict"), "expected state_dict (dict)"),
        "no_contract": (drop("contract"), "expected contract (dict)"),
        "no_model_args": (drop("model_args"), "expected model_args (dict)"),
        "no_model_id": (drop("model_id"), "expected model_id (str)"),
        "tile_size_0": (set_contract("tile_size", 0), "tile_size of at least 1, found 0"),
        "max_days_28": (set_contract("max_days", 28), "max_days of at least 31, found 28"),
        "tile_size_text": (set_contract("tile_size", "64"), "tile_size of at least 1, found '64'"),
        "weights_not_tensors": (lambda payload: payload["state_dict"].update(extra=[1.0]), "expected named tensors"),
    }
    for name, (edit, found) in cases.items():
        model = crafted_copy(tiny_model, tmp_path / f"{name}.pt", edit)
        assert_refused(reconstruct_with(model, one_month, out_dir), [str(model), found], out_dir)


@pytest.mark.slow
def test_a_model_of_another_quantity_is_refused(tiny_model, one_month, out_dir, tmp_path):
    chlorophyll = crafted_copy(tiny_model, tmp_path / "chl.pt", lambda payload: payload["contract"].update(
        variable="mass_concentration_of_chlorophyll_a_in_sea_water", units="kg m-3"))
    celsius = crafted_copy(tiny_model, tmp_path / "degc.pt", lambda payload: payload["contract"].update(units="degC"))
    for model, found in ((chlorophyll, "mass_concentration_of_chlorophyll_a_in_sea_water in kg m-3"),
                         (celsius, "sea_surface_temperature in degC")):
        line = assert_refused(reconstruct_with(model, one_month, out_dir), [str(model), found], out_dir)
        assert "reconstructs SST in K" in line
