//go:build tools

// This file pins the project's dependencies while the packages that use them are written.
package main

import (
	_ "github.com/hashicorp/go-retryablehttp"
	_ "github.com/rs/zerolog"
	_ "github.com/santhosh-tekuri/jsonschema/v5"
	_ "golang.org/x/time/rate"
)
