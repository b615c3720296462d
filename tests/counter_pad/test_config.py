"""The pad's TOML config: the example file loads, every mistake names its key and value."""

from __future__ import annotations

from pathlib import Path

import pytest

from counter_pad.config import load_config, parse_config
from counter_pad.exceptions import ConfigError, PinConflict

from tests.support.pad import config_data

EXAMPLE = Path(__file__).resolve().parents[2] / "counter_pad" / "pad.example.toml"


def test_example_file_loads_with_its_token_file(tmp_path):
    """pad.example.toml is valid; token_file is read relative to the config file."""
    path = tmp_path / "pad.toml"
    path.write_text(EXAMPLE.read_text(encoding="utf-8"), encoding="utf-8")
    (tmp_path / "token").write_text("secret-token\n", encoding="utf-8")
    config = load_config(path)
    assert (config.site, config.counter, config.token) == ("cantho", "12", "secret-token")
    assert config.display.segments == (4, 17, 27, 22, 10, 9, 11) and config.display.dp == 8
    assert config.buzzer is not None and config.offline_grace_s == 10.0
    assert "secret-token" not in repr(config)


def test_command_line_overrides_win(tmp_path):
    """--site, --counter, --url and --token override the file; None leaves the file's value."""
    config = parse_config(config_data(), overrides={"counter": "13", "url": "http://pi:8000/", "site": None,
                                                    "token": "cli-token"})
    assert (config.site, config.counter, config.url, config.token) == ("cantho", "13", "http://pi:8000", "cli-token")


def test_a_pin_used_twice_names_both_uses():
    """The same GPIO on a button and a segment is an error naming both keys."""
    data = config_data(buttons={"recall": 17})
    with pytest.raises(PinConflict, match=r"display.segments\[1\] \(b\): GPIO17 is already used by buttons.recall"):
        parse_config(data)


def test_gpio_names_and_numbers_are_the_same_pin():
    """"GPIO5" and 5 are one pin."""
    with pytest.raises(PinConflict, match="GPIO5"):
        parse_config(config_data(leds={"busy": "GPIO5"}))


@pytest.mark.parametrize("tables, message", [
    ({"buttons": {"call_next": 40}}, r"buttons.call_next: 40 is not a BCM GPIO pin number"),
    ({"buttons": {"call_next": "pin7"}}, r"buttons.call_next: 'pin7' is not a BCM GPIO pin"),
    ({"display": {"segments": [4, 17, 27]}}, r"display.segments: 7 pins expected"),
    ({"display": {"digits": []}}, r"display.digits: 1 to 8"),
    ({"display": {"segments_active_high": "no"}}, r"display.segments_active_high: true or false expected"),
    ({"buttons": {"bounce_time_s": -1}}, r"buttons.bounce_time_s: a number of seconds"),
    ({"leds": {"onlin": 3}}, r"unknown key 'leds.onlin'"),
    ({"qserver": {"url": "192.168.1.10:8000"}}, r"qserver.url: '192.168.1.10:8000' is not an http"),
    ({"qserver": {"site": "Can Tho"}}, r"qserver.site: 'Can Tho' is not a site slug"),
    ({"qserver": {"token": ""}}, r"qserver.token: an officer token"),
    ({"pad": {"offline_grace_s": "10"}}, r"pad.offline_grace_s"),
])
def test_bad_values_are_named(tables, message):
    """Each invalid value raises a ConfigError naming the key."""
    with pytest.raises(ConfigError, match=message):
        parse_config(config_data(**tables))


def test_counter_as_integer_and_missing_sections():
    """counter = 12 (an integer) is the counter "12"; a missing [display] is reported."""
    assert parse_config(config_data(qserver={"counter": 12})).counter == "12"
    data = config_data()
    del data["display"]
    with pytest.raises(ConfigError, match=r"\[display\] section is missing"):
        parse_config(data)


def test_buzzer_is_optional():
    """Without [buzzer] the pad has none."""
    data = config_data()
    del data["buzzer"]
    assert parse_config(data).buzzer is None


def test_missing_file_and_bad_toml(tmp_path):
    """A missing file and a TOML syntax error are config errors naming the file."""
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(tmp_path / "nope.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("[qserver\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="is not valid TOML"):
        load_config(bad)


def test_token_and_token_file_conflict(tmp_path):
    """Giving both token and token_file is ambiguous; an unreadable token_file is named."""
    with pytest.raises(ConfigError, match="either token or token_file"):
        parse_config(config_data(qserver={"token_file": "t"}))
    data = config_data()
    del data["qserver"]["token"]
    data["qserver"]["token_file"] = "missing-token"
    with pytest.raises(ConfigError, match="qserver.token_file: cannot read"):
        parse_config(data, base_dir=tmp_path)
