package partnerapi

import (
	"bytes"
	"fmt"

	"github.com/shopspring/decimal"
)

// Amount is a money amount in US dollars carried as a JSON number. It keeps
// the exact decimal value it was given, so amounts round-trip without the
// rounding a float64 would bring.
type Amount struct {
	d decimal.Decimal
}

// NewAmount parses a decimal string such as "234.5464".
func NewAmount(s string) (Amount, error) {
	d, err := decimal.NewFromString(s)
	if err != nil {
		return Amount{}, fmt.Errorf("parse amount %q: %w", s, err)
	}
	return Amount{d: d}, nil
}

// MustAmount parses a decimal string and panics if it is not one; for constants.
func MustAmount(s string) Amount {
	a, err := NewAmount(s)
	if err != nil {
		panic(err)
	}
	return a
}

// AmountFromDecimal wraps a decimal value.
func AmountFromDecimal(d decimal.Decimal) Amount { return Amount{d: d} }

// Decimal returns the amount as a decimal for arithmetic and comparison.
func (a Amount) Decimal() decimal.Decimal { return a.d }

// String returns the amount in plain decimal notation.
func (a Amount) String() string { return a.d.String() }

// IsZero reports whether the amount is zero.
func (a Amount) IsZero() bool { return a.d.IsZero() }

// MarshalJSON writes the amount as a JSON number.
func (a Amount) MarshalJSON() ([]byte, error) {
	return []byte(a.d.String()), nil
}

// UnmarshalJSON reads a JSON number, a numeric string or null.
func (a *Amount) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if bytes.Equal(b, []byte("null")) {
		*a = Amount{}
		return nil
	}
	if len(b) >= 2 && b[0] == '"' && b[len(b)-1] == '"' {
		b = b[1 : len(b)-1]
	}
	d, err := decimal.NewFromString(string(b))
	if err != nil {
		return fmt.Errorf("amount %s is not a number", b)
	}
	a.d = d
	return nil
}
