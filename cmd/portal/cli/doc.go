// Package cli is the portal's command line: flags, environment, wiring of
// the packages into the server, and the user and audit subcommands. It holds
// no business logic.
package cli
