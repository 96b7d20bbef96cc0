package foureyes

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"resellerportal/apperr"
	"resellerportal/audit"
	"resellerportal/auth"
	"resellerportal/store"
)

// SettingKey is where the four-eyes settings are kept in the settings table.
const SettingKey = "foureyes"

// Bounds of the settings.
const (
	MinExpiryHours     = 1
	MaxExpiryHours     = 168 // a week: a request older than that is no longer what anyone meant
	DefaultExpiryHours = 24
	MaxThresholdDigits = 12 // whole-dollar digits of the amount
)

// DefaultThreshold is the amount above which an allocation waits, until an
// admin sets another.
var DefaultThreshold = decimal.RequireFromString("1000")

// Settings say whether writes wait for a second person, and which.
type Settings struct {
	Enabled bool
	// Threshold: an allocation of more than this (USD, exact) waits.
	Threshold decimal.Decimal
	// Expiry: a request nobody decided within this is expired.
	Expiry time.Duration
}

// stored is the settings' JSON, amounts as text so they stay exact.
type stored struct {
	Enabled     bool
	Threshold   string
	ExpiryHours int
}

// Defaults are the settings before an admin saves any: four-eyes off.
func Defaults() Settings {
	return Settings{Threshold: DefaultThreshold, Expiry: DefaultExpiryHours * time.Hour}
}

// Settings returns the current settings.
func (s *Service) Settings(ctx context.Context) (Settings, error) {
	v, err := s.db.Setting(ctx, SettingKey)
	if errors.Is(err, store.ErrNotFound) {
		return Defaults(), nil
	}
	if err != nil {
		return Settings{}, err
	}
	var st stored
	if err := json.Unmarshal([]byte(v), &st); err != nil {
		return Settings{}, fmt.Errorf("four-eyes settings: %w", err)
	}
	th, err := decimal.NewFromString(st.Threshold)
	if err != nil {
		return Settings{}, fmt.Errorf("four-eyes settings: %w", err)
	}
	return Settings{Enabled: st.Enabled, Threshold: th, Expiry: time.Duration(st.ExpiryHours) * time.Hour}, nil
}

// SettingsInput is the settings form as typed.
type SettingsInput struct {
	Enabled     bool
	Threshold   string // USD, up to two decimal places
	ExpiryHours string // whole hours, MinExpiryHours to MaxExpiryHours
}

// ParseThreshold reads an amount in dollars with at most two decimal
// places, 0 or more, without exponent or sign games.
func ParseThreshold(s string) (decimal.Decimal, bool) {
	s = strings.TrimSpace(s)
	if s == "" || len(s) > MaxThresholdDigits+3 || strings.ContainsAny(s, "eE+-") {
		return decimal.Decimal{}, false
	}
	d, err := decimal.NewFromString(s)
	if err != nil || d.IsNegative() || !d.Equal(d.Round(2)) || len(d.Truncate(0).String()) > MaxThresholdDigits {
		return decimal.Decimal{}, false
	}
	return d, true
}

// SetSettings saves the settings (admins only), audited with what changed.
func (s *Service) SetSettings(ctx context.Context, actor audit.Actor, in SettingsInput) (Settings, error) {
	if !actor.Can(auth.ManageSettings) {
		return Settings{}, apperr.New(apperr.Forbidden, "", msgForbidden)
	}
	th, ok := ParseThreshold(in.Threshold)
	if !ok {
		return Settings{}, apperr.InvalidField("threshold", msgBadThreshold).With(map[string]any{"Digits": MaxThresholdDigits})
	}
	hours, err := strconv.Atoi(strings.TrimSpace(in.ExpiryHours))
	if err != nil || hours < MinExpiryHours || hours > MaxExpiryHours {
		return Settings{}, apperr.InvalidField("expiry", msgBadExpiry).With(map[string]any{"Min": MinExpiryHours, "Max": MaxExpiryHours})
	}
	before, err := s.Settings(ctx)
	if err != nil {
		return Settings{}, err
	}
	next := Settings{Enabled: in.Enabled, Threshold: th, Expiry: time.Duration(hours) * time.Hour}
	b, err := json.Marshal(stored{Enabled: next.Enabled, Threshold: th.StringFixed(2), ExpiryHours: hours})
	if err != nil {
		return Settings{}, err
	}
	err = s.db.WriteDetached(ctx, func(tx *store.Tx) error {
		if err := tx.SetSetting(ctx, SettingKey, string(b)); err != nil {
			return err
		}
		_, err := tx.AppendAudit(ctx, actor.Entry("foureyes.settings", 0, map[string]string{
			"enabled": strconv.FormatBool(next.Enabled), "threshold": th.StringFixed(2), "expiry_hours": strconv.Itoa(hours),
			"was_enabled": strconv.FormatBool(before.Enabled), "was_threshold": before.Threshold.StringFixed(2),
			"was_expiry_hours": strconv.Itoa(int(before.Expiry / time.Hour)),
		}))
		return err
	})
	if err != nil {
		return Settings{}, fmt.Errorf("save four-eyes settings: %w", err)
	}
	return next, nil
}
