package streams

import (
	"encoding/json"
	"fmt"
	"slices"

	"source-oura/protocol"
)

// WithAccountColumn declares the account column in the catalog, for syncs that write several
// Oura accounts into the same tables (see config.AccountColumn): every stream's schema gets
// the column as a string, and every source-defined primary key starts with it, so that two
// people's rows never share a key (heart_rate's timestamp and source are the same for two
// rings worn at the same minute). Cursors are left alone: each connection reads one account,
// so its state stays per account. An empty column leaves the catalog as it is, byte for byte.
func WithAccountColumn(c *protocol.Catalog, column string) error {
	if column == "" {
		return nil
	}
	prop, err := json.Marshal(map[string]string{
		"type":        "string",
		"description": "The Oura account this record belongs to: the label set in the connector's account_column setting, or the Oura user id. It starts the primary key, so that the records of several accounts can share one table.",
	})
	if err != nil {
		return err
	}
	for i := range c.Streams {
		s := &c.Streams[i]
		props, err := schemaProperties(s.JSONSchema)
		if err != nil {
			return fmt.Errorf("adding the %s column to the schema of stream %s: %w", column, s.Name, err)
		}
		if _, ok := props[column]; !ok {
			schema, err := addProperties(s.JSONSchema, []newProperty{{name: column, schema: prop}})
			if err != nil {
				return fmt.Errorf("adding the %s column to the schema of stream %s: %w", column, s.Name, err)
			}
			s.JSONSchema = schema
		}
		if len(s.SourceDefinedPrimaryKey) > 0 && !slices.Equal(s.SourceDefinedPrimaryKey[0], []string{column}) {
			s.SourceDefinedPrimaryKey = append([][]string{{column}}, s.SourceDefinedPrimaryKey...)
		}
	}
	return nil
}
