// Alerts on what operations must act on. Each is a log search over the app's own log lines in Log Analytics
// (workspace-based Application Insights writes them to AppTraces and AppRequests); the formats they match are the
// ones the app logs (tests/infra/test_bicep.py holds the two together).

@description('Name prefix of the alert rules and the action group.')
param name string

@description('Azure region of the alert rules (that of the workspace).')
param location string

@description('Tags for the resources.')
param tags object = {}

@description('Resource ID of the Log Analytics workspace the app logs to.')
param workspaceId string

@description('E-mail addresses told of every alert (the operations team). Empty: the alerts fire without telling anyone.')
param alertEmails array = []

@description('Failed writebacks (each failed attempt counts) in 15 minutes above which to alert.')
@minValue(0)
param failedWritebacksPer15Minutes int = 0

@description('Failed texts in 15 minutes above which to alert.')
@minValue(0)
param failedTextsPer15Minutes int = 5

@description('Share of requests answered 5xx, in percent over 15 minutes, above which to alert (with 20 requests or more).')
@minValue(1)
@maxValue(100)
param serverErrorPercent int = 5

resource actionGroup 'Microsoft.Insights/actionGroups@2023-01-01' = {
  name: '${name}-operations'
  location: 'global'
  tags: tags
  properties: {
    groupShortName: 'vv-ops'
    enabled: true
    emailReceivers: [
      for (address, index) in alertEmails: {
        name: 'email-${index}'
        emailAddress: address
        useCommonAlertSchema: true
      }
    ]
  }
}

var rules = [
  {
    key: 'poison-queues'
    displayName: 'Messages are waiting in a poison queue'
    description: 'The hourly purge found messages that failed every retry (HL7 appointments, texts, writebacks, reminders). /api/health lists the queues; replay failed writebacks and resend failed texts from the portal.'
    severity: 2
    frequency: 'PT1H'
    query: 'AppTraces | where Message startswith "Poison queue " | parse Message with "Poison queue " Queue ": " Purged:long " purged, " Waiting:long " waiting" | where Waiting > 0'
    threshold: 0
  }
  {
    key: 'failed-writebacks'
    displayName: 'Writebacks to the EHR are failing'
    description: 'Connects and disconnects could not be written back to the EHR. The portal lists failed writebacks, with replay.'
    severity: 2
    frequency: 'PT15M'
    query: 'AppTraces | where Message startswith "Writeback of event " and Message has " failed (attempt "'
    threshold: failedWritebacksPer15Minutes
  }
  {
    key: 'failed-texts'
    displayName: 'Texts to patients are failing'
    description: 'Appointment texts failed to send. The portal lists failed texts, with resend; check the SMS settings and the sender numbers.'
    severity: 2
    frequency: 'PT15M'
    query: 'AppTraces | where Message startswith "SMS " and Message has " failed: "'
    threshold: failedTextsPer15Minutes
  }
  {
    key: 'server-errors'
    displayName: 'The API answers with server errors'
    description: 'More than the set share of requests were answered with HTTP 5xx.'
    severity: 1
    frequency: 'PT15M'
    query: 'AppRequests | summarize Total = count(), Failed = countif(toint(ResultCode) >= 500) | where Total >= 20 and Failed * 100.0 / Total > ${serverErrorPercent}'
    threshold: 0
  }
]

resource alerts 'Microsoft.Insights/scheduledQueryRules@2023-03-15-preview' = [
  for rule in rules: {
    name: '${name}-${rule.key}'
    location: location
    tags: tags
    kind: 'LogAlert'
    properties: {
      displayName: rule.displayName
      description: rule.description
      severity: rule.severity
      enabled: true
      scopes: [workspaceId]
      evaluationFrequency: rule.frequency
      windowSize: rule.frequency
      criteria: {
        allOf: [
          {
            query: rule.query
            timeAggregation: 'Count'
            operator: 'GreaterThan'
            threshold: rule.threshold
            failingPeriods: {
              numberOfEvaluationPeriods: 1
              minFailingPeriodsToAlert: 1
            }
          }
        ]
      }
      autoMitigate: true
      actions: {
        actionGroups: [actionGroup.id]
      }
    }
  }
]

@description('Resource IDs of the alert rules.')
output ruleIds array = [for (rule, index) in rules: alerts[index].id]
