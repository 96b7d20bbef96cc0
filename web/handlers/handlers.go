// Package handlers serves the portal's pages. Handlers are methods on one
// struct that holds their dependencies; every route is listed in routes.go.
package handlers

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"resellerportal/auth"
	"resellerportal/metrics"
	"resellerportal/partnerapi"
	"resellerportal/store"
	"resellerportal/web/i18n"
	"resellerportal/web/session"
	"resellerportal/web/static"
)

// PartnerAPI gives out partner API clients for the portal's credentials.
type PartnerAPI interface {
	Distributor(ctx context.Context) (*partnerapi.Client, error)
	ForSubagent(ctx context.Context, subagentUin uint64) (c *partnerapi.Client, own bool, err error)
	ClientFor(cred partnerapi.Credential) (*partnerapi.Client, error)
	Seal(secretID, secretKey string) ([]byte, error)
}

// Config holds what the handlers need.
type Config struct {
	DB       *store.DB
	Sessions *session.Store
	Catalog  *i18n.Catalog
	Assets   *static.Assets
	Throttle *auth.Throttle
	Partner  PartnerAPI
	Metrics  *metrics.Metrics
	Jobs     JobRunner
	Limiters *partnerapi.Limiters // for the API status page
	Logger   *slog.Logger
	Now      func() time.Time
	// Sandbox says the partner API is the local sandbox: every page says so.
	Sandbox bool
	// Endpoint is the partner API host, shown to admins.
	Endpoint string
	// FallbackSecretID is the distributor credential in use while none is
	// stored (from the environment or the sandbox), or "".
	FallbackSecretID string
	// TrustProxy takes the client address from X-Forwarded-For / X-Real-IP;
	// set it only behind a proxy that sets them.
	TrustProxy bool
}

// Handlers serves the portal.
type Handlers struct {
	Config
}

// New checks the configuration and returns the handlers.
func New(cfg Config) (*Handlers, error) {
	switch {
	case cfg.DB == nil, cfg.Sessions == nil, cfg.Catalog == nil, cfg.Assets == nil, cfg.Throttle == nil, cfg.Partner == nil, cfg.Metrics == nil, cfg.Jobs == nil:
		return nil, errors.New("handlers: missing dependency")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Handlers{Config: cfg}, nil
}
