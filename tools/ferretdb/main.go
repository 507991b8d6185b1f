// Command ferretdb runs FerretDB's embeddable package: a MongoDB wire-protocol server for
// machines that have no MongoDB. It stores data in PostgreSQL when given a PostgreSQL URL
// (-postgresql-url, or FERRETDB_POSTGRESQL_URL, which keeps the password out of the process
// list), else in SQLite files under -sqlite-dir. The app itself only ever sees MONGODB_URI.
package main

import (
	"context"
	"flag"
	"log"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/FerretDB/FerretDB/ferretdb"
)

func main() {
	addr := flag.String("listen-addr", "127.0.0.1:27018", "TCP address to listen on")
	pgURL := flag.String("postgresql-url", os.Getenv("FERRETDB_POSTGRESQL_URL"), "PostgreSQL URL; when empty, SQLite is used")
	dir := flag.String("sqlite-dir", ".data/ferretdb", "directory that holds the SQLite databases")
	flag.Parse()

	config := ferretdb.Config{Listener: ferretdb.ListenerConfig{TCP: *addr}}
	var where string
	if *pgURL != "" {
		u, err := url.Parse(*pgURL)
		if err != nil {
			log.Fatalf("postgresql url: %v", err)
		}
		config.Handler = "postgresql"
		config.PostgreSQLURL = *pgURL
		where = "PostgreSQL at " + u.Redacted()
	} else {
		abs, err := filepath.Abs(*dir)
		if err != nil {
			log.Fatalf("sqlite dir: %v", err)
		}
		if err := os.MkdirAll(abs, 0o755); err != nil {
			log.Fatalf("sqlite dir: %v", err)
		}
		config.Handler = "sqlite"
		config.SQLiteURL = "file:" + abs + "/"
		where = "SQLite in " + abs
	}

	db, err := ferretdb.New(&config)
	if err != nil {
		log.Fatalf("ferretdb: %v", err)
	}

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()

	log.Printf("ferretdb listening on %s, data in %s", *addr, where)
	db.Run(ctx)
}
