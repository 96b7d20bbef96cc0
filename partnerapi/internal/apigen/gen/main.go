// Command gen writes the partner API's generated Go files.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"resellerportal/partnerapi/internal/apigen"
)

func main() {
	specDir := flag.String("spec", "../../shared/intlpartnersmgt", "directory holding api.json and limits.tsv")
	out := flag.String("out", ".", "directory to write the generated files into")
	flag.Parse()
	files, err := apigen.Generate(*specDir)
	if err != nil {
		fmt.Fprintln(os.Stderr, "apigen:", err)
		os.Exit(1)
	}
	for name, src := range files {
		if err := os.WriteFile(filepath.Join(*out, name), src, 0o644); err != nil {
			fmt.Fprintln(os.Stderr, "apigen:", err)
			os.Exit(1)
		}
	}
}
