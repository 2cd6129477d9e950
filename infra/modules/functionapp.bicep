@description('Name of the function app (and the prefix of its plan).')
param name string

@description('Azure region.')
param location string

@description('Resource ID of the Log Analytics workspace that receives the function logs.')
param workspaceId string

@description('Tags for the resources; azd finds the app by its azd-service-name tag.')
param tags object = {}

@description('Resource ID of the user-assigned managed identity.')
param identityId string

@description('Client ID of the user-assigned managed identity.')
param identityClientId string

@description('Blob endpoint of the app\'s storage account, which holds the deployment package.')
param deploymentBlobEndpoint string

@description('Container of the deployment package.')
param deploymentContainer string

@description('App settings (name and value pairs): every setting the app reads.')
param appSettings array

@description('Enabled or Disabled. Disabled needs private endpoints; the admin portal then reaches the API through them.')
@allowed([
  'Enabled'
  'Disabled'
])
param publicNetworkAccess string = 'Enabled'

@description('Most instances the app may scale out to.')
@minValue(1)
@maxValue(1000)
param maximumInstanceCount int = 40

@description('Memory of each instance, in MB.')
@allowed([
  512
  2048
  4096
])
param instanceMemoryMB int = 2048

@description('Spread instances over availability zones (where the region offers it for Flex Consumption).')
param zoneRedundant bool = false

resource plan 'Microsoft.Web/serverfarms@2024-04-01' = {
  // checkov:skip=CKV_AZURE_225: Zone redundancy is the zoneRedundant parameter; not every region offers it for Flex Consumption.
  name: '${name}-plan'
  location: location
  tags: tags
  kind: 'functionapp'
  sku: {
    tier: 'FlexConsumption'
    name: 'FC1'
  }
  properties: {
    reserved: true
    zoneRedundant: zoneRedundant
  }
}

resource app 'Microsoft.Web/sites@2024-04-01' = {
  // checkov:skip=CKV_AZURE_56: Authentication is done by the app itself (Entra ID JWTs, SMART launches, signed webhooks); EasyAuth would block the EHR's and Event Grid's calls.
  // checkov:skip=CKV_AZURE_221: Public network access is a documented parameter (publicNetworkAccess).
  // checkov:skip=CKV_AZURE_70: httpsOnly is set; checkov misreads it on Flex Consumption sites.
  // checkov:skip=CKV_AZURE_222: Public network access is a documented parameter (publicNetworkAccess).
  // checkov:skip=CKV_AZURE_17: EHRs, browsers and Event Grid connect without client certificates; webhooks are verified by signature or clientState.
  // checkov:skip=CKV_AZURE_212: Flex Consumption scales per function from zero; always-ready instances are an optional cost the organisation can add.
  // checkov:skip=CKV_AZURE_213: Flex Consumption has no App Service health check setting; /api/health is for availability tests (see infra/README.md).
  name: name
  location: location
  tags: tags
  kind: 'functionapp,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identityId}': {}
    }
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    publicNetworkAccess: publicNetworkAccess
    keyVaultReferenceIdentity: identityId
    siteConfig: {
      minTlsVersion: '1.2'
      ftpsState: 'Disabled'
      http20Enabled: true
      appSettings: appSettings
    }
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: '${deploymentBlobEndpoint}${deploymentContainer}'
          authentication: {
            type: 'UserAssignedIdentity'
            userAssignedIdentityResourceId: identityId
          }
        }
      }
      runtime: {
        name: 'python'
        version: '3.11'
      }
      scaleAndConcurrency: {
        maximumInstanceCount: maximumInstanceCount
        instanceMemoryMB: instanceMemoryMB
      }
    }
  }
}

// The Functions host's logs (FunctionAppLogs) and the site's metrics (requests, 5xx, response time), to Log Analytics
resource appDiagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'to-log-analytics'
  scope: app
  properties: {
    workspaceId: workspaceId
    logs: [
      { category: 'FunctionAppLogs', enabled: true }
    ]
    metrics: [
      { category: 'AllMetrics', enabled: true }
    ]
  }
}

@description('Name of the function app.')
output name string = app.name

@description('Resource ID of the function app.')
output resourceId string = app.id

@description('Default host name of the function app.')
output defaultHostname string = app.properties.defaultHostName

@description('Client ID the app runs as (its user-assigned identity).')
output clientId string = identityClientId
