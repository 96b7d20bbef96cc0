package store

import (
	"errors"
	"testing"
)

func TestSettings(t *testing.T) {
	db, _, _ := openTestDB(t)
	ctx := t.Context()
	steps := []struct {
		name    string
		set     *string // nil = only read
		want    string
		wantErr error
	}{
		{"missing", nil, "", ErrNotFound},
		{"set", ptr("UTC+8"), "UTC+8", nil},
		{"overwrite", ptr("UTC"), "UTC", nil},
		{"empty value is a value", ptr(""), "", nil},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			if s.set != nil {
				if err := db.Write(ctx, func(tx *Tx) error { return tx.SetSetting(ctx, "timezone", *s.set) }); err != nil {
					t.Fatal(err)
				}
			}
			got, err := db.Setting(ctx, "timezone")
			if got != s.want || !errors.Is(err, s.wantErr) {
				t.Errorf("Setting = %q, %v; want %q, %v", got, err, s.want, s.wantErr)
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }
