"""config.toml -> Config: one strict reader, one duration grammar, channel and feed tables."""

from monitor.config.load import ChannelConfig, Config, default_config_path, load_config

__all__ = ["ChannelConfig", "Config", "default_config_path", "load_config"]
