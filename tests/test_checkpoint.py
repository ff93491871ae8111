"""What a model file holds and how it is read back (sstfill.checkpoint): weights only, versions, checksums."""

import pytest
import torch

from sstfill.checkpoint import FORMAT_VERSION, build_model, default_model_path, load_model, save_model, weights_checksum
from sstfill.config import DataContract, ModelConfig
from sstfill.errors import CheckpointError, OutputError


def test_model_file_round_trip_is_weights_only(tmp_path):
    config = ModelConfig(embed_dim=16, hidden=16, depth=1)
    contract = DataContract(tile_size=32, grid_spacing_deg=[0.25])
    model = build_model(config, contract)
    model.set_normalisation(0.1, 0.5, -0.01, 0.2)
    path = tmp_path / "m.pt"
    model_id = save_model(path, model, config, contract, {"note": torch.tensor(1.0).item()})
    payload = torch.load(path, weights_only=True)  # raises if anything but tensors and plain values is inside
    assert payload["format"] == "sstfill-model" and payload["sstfill_version"]
    loaded = load_model(path)
    assert loaded.model_id == model_id and loaded.contract == contract and loaded.config == config
    assert loaded.model.settings == config  # ModelConfig is the model's one record of its constructor arguments
    assert float(loaded.model.input_std) == pytest.approx(0.5)
    for name, value in model.state_dict().items():
        assert torch.equal(value, loaded.model.state_dict()[name]), name


def test_a_model_file_of_sstfill_0_1_0_still_loads(tmp_path):
    config = ModelConfig(embed_dim=16, hidden=16, depth=1, pixel_channels=0, baseline_structure=False)
    contract = DataContract(tile_size=32, baseline_sigma_px=2.0)
    path = tmp_path / "old.pt"
    model = build_model(config, contract)
    save_model(path, model, config, contract, {})
    payload = torch.load(path, weights_only=True)
    # As sstfill 0.1.0 wrote it: format 1, no checksum, no PixelPath or BaselineStructure settings.
    del payload["model_args"]["pixel_channels"], payload["model_args"]["baseline_structure"], payload["weights_sha256"]
    torch.save({**payload, "format_version": 1, "sstfill_version": "0.1.0"}, path)
    loaded = load_model(path)
    assert loaded.config.pixel_channels == 0 and loaded.model.pixels is None
    assert not loaded.config.baseline_structure and loaded.model.structure is None
    assert loaded.contract.fill_sigma_px((0.25, 0.25)) == (2.0, 2.0) and loaded.sstfill_version == "0.1.0"
    for name, value in model.state_dict().items():
        assert torch.equal(value, loaded.model.state_dict()[name]), name


def test_a_model_file_newer_than_this_sstfill_is_refused_with_an_upgrade_hint(tmp_path):
    config, contract = ModelConfig(embed_dim=16, hidden=16, depth=1), DataContract(tile_size=32)
    path = tmp_path / "future.pt"
    save_model(path, build_model(config, contract), config, contract, {})
    payload = torch.load(path, weights_only=True)
    payload["contract"]["a_future_setting"] = 1  # what a newer format may hold, which this sstfill does not know
    torch.save({**payload, "format_version": FORMAT_VERSION + 1}, path)
    with pytest.raises(CheckpointError, match=rf"format {FORMAT_VERSION + 1}, this sstfill .* reads up to "
                                              rf"{FORMAT_VERSION}; upgrade sstfill"):
        load_model(path)


def test_weights_checksum_depends_on_the_weights_alone(tmp_path):
    config, contract = ModelConfig(embed_dim=16, hidden=16, depth=1), DataContract(tile_size=32)
    path = tmp_path / "m.pt"
    model_id = save_model(path, build_model(config, contract), config, contract, {})
    payload = torch.load(path, weights_only=True)
    assert payload["format_version"] == FORMAT_VERSION == 2
    state = payload["state_dict"]
    assert payload["weights_sha256"] == weights_checksum(dict(reversed(state.items())))
    assert model_id.endswith(payload["weights_sha256"][:12])
    name = next(iter(state))
    assert weights_checksum({**state, name: state[name].double()}) != payload["weights_sha256"]  # dtype counts
    assert weights_checksum({**state, name: state[name].reshape(-1, 1)}) != payload["weights_sha256"]  # shape counts


def test_model_files_without_a_checksum(tmp_path):
    config, contract = ModelConfig(embed_dim=16, hidden=16, depth=1), DataContract(tile_size=32)
    path = tmp_path / "m.pt"
    save_model(path, build_model(config, contract), config, contract, {})
    payload = torch.load(path, weights_only=True)
    del payload["weights_sha256"]
    torch.save(payload, path)
    with pytest.raises(CheckpointError, match="expected weights_sha256"):  # format 2 must carry it
        load_model(path)
    torch.save({**payload, "format_version": 1}, path)  # as sstfill wrote files before checksums
    assert load_model(path).contract == contract


def test_the_bundled_model_verifies_and_keeps_its_id():
    payload = torch.load(default_model_path(), weights_only=True)
    assert payload["format_version"] == 2 and payload["weights_sha256"] == weights_checksum(payload["state_dict"])
    assert load_model().model_id == "sstfill-default-6d216dbc7352"


@pytest.mark.parametrize(("field", "value"), [("tile_size", 0), ("tile_size", 32.0), ("max_days", 28),
                                          ("months_per_window", 0), ("target", "anomaly"), ("baseline_sigma_px", -1.0),
                                          ("baseline_sigma_px", float("nan")), ("grid_spacing_deg", [0.25, 0.0]),
                                          ("training_mode", None), ("units", "")])
def test_data_contract_is_validated(field, value):
    with pytest.raises(CheckpointError, match=field):
        DataContract(**{field: value})


def test_a_failed_model_write_leaves_nothing(tmp_path):
    config, contract = ModelConfig(embed_dim=16, hidden=16, depth=1), DataContract(tile_size=32)
    (tmp_path / "file").write_text("")
    with pytest.raises(OutputError, match="check the free space"):
        save_model(tmp_path / "file" / "m.pt", build_model(config, contract), config, contract, {})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file"]


def test_bad_model_files(tmp_path):
    with pytest.raises(CheckpointError, match="found nothing"):
        load_model(tmp_path / "none.pt")
    (tmp_path / "junk.pt").write_bytes(b"not a model")
    with pytest.raises(CheckpointError, match="could not read"):
        load_model(tmp_path / "junk.pt")
    torch.save({"weights": torch.zeros(1)}, tmp_path / "other.pt")
    with pytest.raises(CheckpointError, match="another kind of file"):
        load_model(tmp_path / "other.pt")
