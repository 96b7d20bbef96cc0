package handlers

import (
	"log/slog"
	"net/http"
)

// levelFor logs server errors as errors and everything else as information.
func levelFor(status int) slog.Level {
	if status >= http.StatusInternalServerError {
		return slog.LevelError
	}
	return slog.LevelInfo
}
