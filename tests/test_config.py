"""Each setting has one home: its dataclass in sstfill.config holds the default and the check."""

import inspect
import math
from dataclasses import fields

import pytest
import typer

from sstfill.cli import app
from sstfill.config import (
    MIN_QUALITY,
    DataContract,
    ModelConfig,
    PrepareConfig,
    ReconstructConfig,
    TrainConfig,
    from_dict,
)
from sstfill.errors import CheckpointError, InputError
from sstfill.prepare import prepare
from sstfill.reconstruct import reconstruct


def option_defaults(command: str) -> dict:
    return {param.name: param.default for param in typer.main.get_command(app).commands[command].params}


@pytest.mark.parametrize(("command", "records", "names"), [
    ("train", (TrainConfig, ModelConfig), {"epochs", "batch_size", "samples_per_epoch", "learning_rate", "patience",
                                           "validation_fraction", "tile_size", "months_per_window", "target_form",
                                           "seed", "embed_dim", "depth"}),
    ("prepare", (PrepareConfig,), {"min_quality", "min_target_days", "seed"}),
    ("reconstruct", (ReconstructConfig,), {"min_quality", "batch_size", "pack", "check", "adapt", "adapt_seconds",
                                           "seed"}),
])
def test_the_command_line_takes_its_defaults_from_the_settings(command, records, names):
    options = option_defaults(command)
    defaults = {f.name: getattr(record(), f.name) for record in records for f in fields(record)}
    assert names <= set(options) & set(defaults)
    for name in names:
        assert options[name] == defaults[name], name
    assert option_defaults("evaluate")["min_quality"] == MIN_QUALITY


@pytest.mark.parametrize(("function", "record"), [(prepare, PrepareConfig), (reconstruct, ReconstructConfig)])
def test_the_python_api_takes_its_defaults_from_the_settings(function, record):
    parameters = inspect.signature(function).parameters
    for f in fields(record):
        assert parameters[f.name].default == getattr(record(), f.name), f.name


def test_training_and_the_model_file_share_the_data_settings():
    trained, recorded = TrainConfig(), DataContract()
    assert (trained.tile_size, trained.months_per_window, trained.target_form) == (
        recorded.tile_size, recorded.months_per_window, recorded.target)
    assert PrepareConfig().min_quality == ReconstructConfig().min_quality == MIN_QUALITY


def test_user_settings_raise_input_errors_and_model_file_settings_checkpoint_errors():
    with pytest.raises(InputError, match=r"^expected a target form among .* found 'anomaly'; use residual"):
        TrainConfig(target_form="anomaly")
    with pytest.raises(CheckpointError, match=r"^expected target among \('residual', 'absolute'\), found 'anomaly'$"):
        DataContract(target="anomaly")
    with pytest.raises(CheckpointError, match=r"^expected an integer tile_size of at least 1, found '64'$"):
        from_dict(DataContract, {"tile_size": "64"})


@pytest.mark.parametrize(("settings", "message"), [
    ({"batch_size": 0}, "expected --batch-size of 1 or more, found 0; pass a positive number of tiles"),
    ({"batch_size": 2.5}, "expected --batch-size of 1 or more, found 2.5; pass a positive number of tiles"),
    ({"adapt_seconds": -1.0}, "expected --adapt-seconds of 0 or more, found -1.0; pass a time budget in seconds"),
    ({"adapt_seconds": math.nan}, "expected --adapt-seconds of 0 or more, found nan; pass a time budget in seconds"),
    ({"seed": -5}, "expected a --seed from 0 to 2**32 - 1, found -5; pass e.g. 0"),
])
def test_reconstruct_settings_that_cannot_be_meant_are_refused(settings, message):
    with pytest.raises(InputError) as refused:
        ReconstructConfig(**settings)
    assert str(refused.value) == message


def test_min_target_days_is_checked_for_self_supervised_stores_only():
    settings = PrepareConfig(min_target_days=0)  # a supervised store ignores it
    with pytest.raises(InputError) as refused:
        settings.check_self_supervised()
    assert str(refused.value) == ("expected --min-target-days from 1 to 31, found 0; pass e.g. 10 (the default): the "
                                  "target is the mean of the days a pixel was seen")
    PrepareConfig(min_target_days=31).check_self_supervised()
    with pytest.raises(InputError, match="--seed"):
        PrepareConfig(seed=2**32)
