package partnerapi

import (
	"strings"
	"time"
)

// TimeZone is the partner API's time zone: it writes times without a zone,
// in UTC+8.
var TimeZone = time.FixedZone("UTC+8", 8*3600)

// TimeLayout is how the partner API writes times.
const TimeLayout = time.DateTime

// ParseTime reads a time the partner API wrote ("2006-01-02 15:04:05" in
// UTC+8), in UTC. Empty text and the API's "-" for none are the zero time;
// anything else it cannot read is an error.
func ParseTime(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" || s == "-" {
		return time.Time{}, nil
	}
	t, err := time.ParseInLocation(TimeLayout, s, TimeZone)
	if err != nil {
		return time.Time{}, err
	}
	return t.UTC(), nil
}
