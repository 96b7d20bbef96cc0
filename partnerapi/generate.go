package partnerapi

//go:generate go run ./internal/apigen/gen -spec ../../shared/intlpartnersmgt -out .
