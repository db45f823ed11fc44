"""stagebox configuration: one TOML file, a typed schema, every problem reported at once.

    from stagebox.config import load_config, ConfigError
    cfg = load_config()            # --config / $STAGEBOX_CONFIG / /etc/stagebox/stagebox.toml
    cfg.audio.sample_rate          # 48000

The schema (every key, its type, default and doc) is `stagebox.config.schema`; the reference
in docs/configuration.md is generated from it (`stagebox config reference`).
"""

from stagebox.config.errors import ConfigError, Problem
from stagebox.config.loader import ENV_VAR, config_from_dict, config_from_text, load_config
from stagebox.config.render import default_config_text, effective_config_text, reference_markdown
from stagebox.config.schema import (
    DEFAULT_PATH,
    AudioConfig,
    BeepsConfig,
    ButtonsConfig,
    Config,
    ControlConfig,
    DisplayConfig,
    LightsConfig,
    LogConfig,
    PanelConfig,
    PhonesConfig,
    StageConfig,
    TakesConfig,
    TimecodeConfig,
)

__all__ = [
    "DEFAULT_PATH",
    "ENV_VAR",
    "AudioConfig",
    "BeepsConfig",
    "ButtonsConfig",
    "Config",
    "ConfigError",
    "ControlConfig",
    "DisplayConfig",
    "LightsConfig",
    "LogConfig",
    "PanelConfig",
    "PhonesConfig",
    "Problem",
    "StageConfig",
    "TakesConfig",
    "TimecodeConfig",
    "config_from_dict",
    "config_from_text",
    "default_config_text",
    "effective_config_text",
    "load_config",
    "reference_markdown",
]
