package cli

import (
	"context"

	"source-oura/internal/config"
	"source-oura/internal/oura"
	"source-oura/protocol"
)

// tokenSource picks how requests are signed.
func (r *run) tokenSource(cfg *config.Config) (oura.TokenSource, error) {
	r.masker.Add(cfg.Auth.APIKey, cfg.Auth.AccessToken, cfg.Auth.RefreshToken, cfg.Auth.ClientSecret)
	return oura.StaticToken(cfg.Auth.APIKey), nil
}

func (r *run) auth(ctx context.Context) int {
	_ = ctx
	_ = r.out.Error(protocol.ConfigError, "the auth command is not available yet", "", nil)
	return ExitFailure
}
