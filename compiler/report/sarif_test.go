package report_test

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/promoctl/promoctl/compiler/report"
	"github.com/promoctl/promoctl/internal/golden"
	"github.com/promoctl/promoctl/promotions"
)

func TestWriteSARIF(t *testing.T) {
	locked := promotions.ErrorAt(promotions.CodeLockedField, "promotions/boost.yaml", promotions.P("metered", "allowance"),
		"metered.allowance is locked because boost is applied (base 5000, head 8000); only name, description, status and grants may change")
	locked.Line, locked.Column = 16, 14
	unplaced := promotions.WarningAt(promotions.CodeFileName, "promotions/x.yaml", nil, "promotion boost2 should live in a file named boost2.yaml")
	rep := report.Report{Diagnostics: promotions.Diagnostics{locked, unplaced}}

	var out bytes.Buffer
	require.NoError(t, rep.WriteSARIF(&out, report.SARIFOptions{URIPrefix: "config/", Version: "1.2.3"}))
	golden.Assert(t, "sarif.json", out.String())

	var log struct {
		Version string `json:"version"`
		Runs    []struct {
			Tool struct {
				Driver struct {
					Version string                `json:"version"`
					Rules   []struct{ ID string } `json:"rules"`
				} `json:"driver"`
			} `json:"tool"`
			Results []struct {
				RuleID    string `json:"ruleId"`
				RuleIndex int    `json:"ruleIndex"`
				Level     string `json:"level"`
				Locations []struct {
					PhysicalLocation struct {
						ArtifactLocation struct{ URI string } `json:"artifactLocation"`
						Region           *struct {
							StartLine, StartColumn int
						} `json:"region"`
					} `json:"physicalLocation"`
				} `json:"locations"`
			} `json:"results"`
		} `json:"runs"`
	}
	require.NoError(t, json.Unmarshal(out.Bytes(), &log))
	assert.Equal(t, "2.1.0", log.Version)
	require.Len(t, log.Runs, 1)
	run := log.Runs[0]
	assert.Equal(t, "1.2.3", run.Tool.Driver.Version)
	require.Len(t, run.Results, 2)
	for _, r := range run.Results {
		assert.Equal(t, r.RuleID, run.Tool.Driver.Rules[r.RuleIndex].ID)
	}
	first := run.Results[0].Locations[0].PhysicalLocation
	assert.Equal(t, "config/promotions/boost.yaml", first.ArtifactLocation.URI)
	require.NotNil(t, first.Region)
	assert.Equal(t, 16, first.Region.StartLine)
	assert.Equal(t, "warning", run.Results[1].Level)
	assert.Nil(t, run.Results[1].Locations[0].PhysicalLocation.Region, "SARIF lines start at 1: no region when unknown")
}

func TestWriteSARIFEmpty(t *testing.T) {
	var out bytes.Buffer
	require.NoError(t, report.Report{}.WriteSARIF(&out, report.SARIFOptions{}))
	assert.Contains(t, out.String(), `"results": []`)
	assert.Contains(t, out.String(), `"rules": []`)
}
