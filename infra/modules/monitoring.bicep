@description('Name prefix of the Log Analytics workspace and Application Insights.')
param name string

@description('Azure region.')
param location string

@description('Tags for the resources.')
param tags object = {}

@description('Days of log retention.')
@minValue(30)
@maxValue(730)
param retentionInDays int = 90

@description('Principal ID of the function app\'s managed identity, granted Monitoring Metrics Publisher.')
param principalId string

// Monitoring Metrics Publisher
var monitoringMetricsPublisher = '3913510d-42f4-4e42-8a64-420c390055eb'

resource workspace 'Microsoft.OperationalInsights/workspaces@2023-09-01' = {
  name: '${name}-logs'
  location: location
  tags: tags
  properties: {
    sku: {
      name: 'PerGB2018'
    }
    retentionInDays: retentionInDays
  }
}

resource insights 'Microsoft.Insights/components@2020-02-02' = {
  name: '${name}-insights'
  location: location
  tags: tags
  kind: 'web'
  properties: {
    Application_Type: 'web'
    WorkspaceResourceId: workspace.id
    DisableLocalAuth: true
  }
}

// Monitoring Metrics Publisher (telemetry with Entra ID, since local authentication is disabled)
resource metricsPublisher 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(insights.id, principalId, monitoringMetricsPublisher)
  scope: insights
  properties: {
    principalId: principalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', monitoringMetricsPublisher)
  }
}

@description('Name of Application Insights.')
output name string = insights.name

@description('Resource ID of Application Insights.')
output resourceId string = insights.id

@description('Connection string of Application Insights.')
output connectionString string = insights.properties.ConnectionString

@description('Resource ID of the Log Analytics workspace.')
output workspaceId string = workspace.id
