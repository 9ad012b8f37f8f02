package config

// Console configures the DPO's web console served at /console/.
type Console struct {
	// SessionKeyFile holds the key (64 hex characters, `openssl rand -hex
	// 32`) that seals the console's session cookies. Give every replica
	// behind one address the same file, or a session opened on one is
	// refused by the next. When empty, serve generates one under
	// state_dir/console/session.key on first start.
	SessionKeyFile string `yaml:"session_key_file"`
}

func (c *Console) applyDefaults(resolve func(string) string) {
	if c.SessionKeyFile != "" {
		c.SessionKeyFile = resolve(c.SessionKeyFile)
	}
}
