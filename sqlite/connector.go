package sqlite

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
)

// connector opens connections of a registered driver and runs setup
// statements (PRAGMAs the DSN cannot carry) on each new one.
type connector struct {
	drv   driver.Driver
	dsn   string
	setup []string
}

// openDB returns a *sql.DB of driver name whose connections run setup.
func openDB(name, dsn string, setup ...string) (*sql.DB, error) {
	probe, err := sql.Open(name, "")
	if err != nil {
		return nil, err
	}
	drv := probe.Driver()
	probe.Close()
	return sql.OpenDB(&connector{drv: drv, dsn: dsn, setup: setup}), nil
}

// Connect implements driver.Connector.
func (c *connector) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := c.drv.Open(c.dsn)
	if err != nil {
		return nil, err
	}
	ex, ok := conn.(driver.ExecerContext)
	if !ok && len(c.setup) > 0 {
		conn.Close()
		return nil, fmt.Errorf("driver %T cannot execute statements on a connection", conn)
	}
	for _, q := range c.setup {
		if _, err := ex.ExecContext(ctx, q, nil); err != nil {
			conn.Close()
			return nil, fmt.Errorf("%s: %w", q, err)
		}
	}
	return conn, nil
}

// Driver implements driver.Connector.
func (c *connector) Driver() driver.Driver { return c.drv }
