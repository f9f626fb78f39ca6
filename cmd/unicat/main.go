// Command unicat runs the union catalog: it imports and harvests member
// libraries' MARC records into one store and serves them. This package only
// wires the other packages together; each subcommand lives in its own file
// (serve.go, and reload.go for its configuration reload on SIGHUP).
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"runtime/pprof"
	"syscall"

	"github.com/unicat/unicat/catalog"
	"github.com/unicat/unicat/config"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = ""

type command struct {
	name  string
	usage string
	run   func(ctx context.Context, args []string, stdout, stderr io.Writer) error
}

var commands = []command{
	{"serve", "serve [--config F]                      run the service (HTTP: /healthz, /metrics); SIGHUP reloads the configuration", runServe},
	{"import", "import [--config F] --source ID [--format auto|iso2709|marcxml] [--bulk auto|always|never] FILE...\n" +
		"       import [--config F] --all             import every file source from its configured path", runImport},
	{"check", "check [[--config F] --source ID] [--format auto|iso2709|marcxml] [--charset C] [-v] FILE...\n" +
		"                                        read MARC files as an import would, storing nothing: what it would reject, and why", runCheck},
	{"export", "export [--config F] [--source ID | --union] [--format iso2709|marcxml] [-o FILE]", runExport},
	{"harvest", "harvest [--config F] [--parallel N] [-v] [SOURCE...]  harvest the sources (default: all enabled) once, now", runHarvest},
	{"status", "status [--config F]                     show each source's last harvest and next scheduled run", runStatus},
	{"dedup", "dedup [--config F] --explain ID|--rebuild  explain a union record's cluster (ID: union id or source:localid), or recompute every cluster", runDedup},
	{"reindex", "reindex [--config F]                    rebuild the search index from the union records\n" +
		"       reindex [--config F] --records [--source ID] [-v]  derive the stored records again from what their sources sent", runReindex},
	{"gen", "gen -o DIR [-n N] [-libraries M] [-seed S] [-format iso2709|marcxml]  write a generated test corpus and its truth", runGen},
	{"backup", "backup [--config F] [--url URL] FILE        write a consistent copy of the store (through the admin API while serving)", runBackup},
	{"compact", "compact [--config F]                    rewrite the store file without its free space (service stopped)", runCompact},
	{"version", "version                                 print the version", runVersion},
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: unicat COMMAND [flags]")
	fmt.Fprintln(w, "Without --config the embedded demo configuration (config/demo.yaml) is used.")
	fmt.Fprintln(w, "commands:")
	for _, c := range commands {
		fmt.Fprintln(w, "  unicat "+c.usage)
	}
}

// exitError carries a specific exit status.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }

func main() { os.Exit(profiled()) }

// profiled runs the command, profiled as the environment asks.
func profiled() int {
	// UNICAT_CPUPROFILE=FILE writes a CPU profile of the whole command, for
	// finding where a slow import or harvest spends its time;
	// UNICAT_MEMPROFILE=FILE the heap as the command ends.
	if path := os.Getenv("UNICAT_CPUPROFILE"); path != "" {
		if f, err := os.Create(path); err == nil {
			if err := pprof.StartCPUProfile(f); err == nil {
				defer f.Close()
				defer pprof.StopCPUProfile()
			}
		}
	}
	code := run(os.Args[1:], os.Stdout, os.Stderr)
	if path := os.Getenv("UNICAT_MEMPROFILE"); path != "" {
		if f, err := os.Create(path); err == nil {
			pprof.Lookup("heap").WriteTo(f, 0)
			f.Close()
		}
	}
	return code
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(stderr)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	for _, c := range commands {
		if c.name != args[0] {
			continue
		}
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		defer stop()
		if err := c.run(ctx, args[1:], stdout, stderr); err != nil {
			if err == flag.ErrHelp {
				return 0
			}
			fmt.Fprintf(stderr, "unicat %s: %v\n", c.name, err)
			if ee, ok := err.(*exitError); ok {
				return ee.code
			}
			return 1
		}
		return 0
	}
	fmt.Fprintf(stderr, "unicat: unknown command %q\n", args[0])
	usage(stderr)
	return 2
}

// newFlags returns a flag set with the --config flag every command takes.
func newFlags(name string, stderr io.Writer) (*flag.FlagSet, *string) {
	fs := flag.NewFlagSet("unicat "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfgPath := fs.String("config", "", "configuration file (default: the embedded demo configuration)")
	return fs, cfgPath
}

func loadConfig(path string) (*config.Config, error) {
	if path == "" {
		return config.Demo()
	}
	return config.Load(path)
}

// openCatalog opens the configured catalog (catalog.Open): the store with
// every configured source and library registered, deduplication, the
// search index and the OAI-PMH index, all brought up to date.
// A signal during a build it runs at the start (catalog.OpenContext)
// stops it, and the next start runs it again.
func openCatalog(ctx context.Context, cfg *config.Config) (*catalog.Catalog, error) {
	return openCatalogWith(ctx, catalog.OptionsFromConfig(cfg))
}

// openCatalogWith is openCatalog with the catalog's options given.
func openCatalogWith(ctx context.Context, opts catalog.Options) (*catalog.Catalog, error) {
	cat, err := catalog.OpenContext(ctx, opts)
	if err != nil {
		return nil, startBuildError(ctx, err)
	}
	return cat, nil
}

// startBuildError is the error of opening a catalog, whose builds a signal
// (ctx done) may have stopped: the next start runs them again.
func startBuildError(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("interrupted while building the catalog at the start (the next start builds it): %w", err)
	}
	return err
}

func runVersion(_ context.Context, args []string, stdout, stderr io.Writer) error {
	v := version
	if v == "" {
		v = "devel"
		if bi, ok := debug.ReadBuildInfo(); ok {
			if bi.Main.Version != "" && bi.Main.Version != "(devel)" {
				v = bi.Main.Version
			}
			for _, s := range bi.Settings {
				if s.Key == "vcs.revision" && len(s.Value) >= 12 {
					v += " " + s.Value[:12]
				}
			}
		}
	}
	fmt.Fprintln(stdout, "unicat", v)
	return nil
}
