// With Front Door in front (enableRateLimit), the function app takes requests from that Front Door profile only
// (its service tag and its X-Azure-FDID), so nobody calls the app past the rate limit; and Event Grid's deliveries
// to /api/events/sms (function key) still arrive. Deployment (scm) keeps its own, unrestricted, site.

@description('Name of the function app.')
param functionAppName string

@description('The Front Door profile\'s ID (its X-Azure-FDID header), from ratelimit.bicep.')
param frontDoorId string

resource app 'Microsoft.Web/sites@2024-04-01' existing = {
  name: functionAppName
}

resource access 'Microsoft.Web/sites/config@2024-04-01' = {
  // checkov reads this site configuration as a whole App Service; what it asks of one is settled on the site:
  // checkov:skip=CKV_AZURE_13: Authentication is done by the app itself (Entra ID JWTs, SMART launches, signed webhooks), as on the site in functionapp.bicep.
  // checkov:skip=CKV_AZURE_63: The Functions host's logs and the site's request metrics go to Log Analytics by the site's diagnostic settings.
  // checkov:skip=CKV_AZURE_65: Detailed error pages are an App Service (IIS) feature; the app answers problem+json and plain pages itself.
  // checkov:skip=CKV_AZURE_66: Failed request tracing is an App Service (IIS) feature; requests are traced with OpenTelemetry.
  // checkov:skip=CKV_AZURE_80: The app is Python; there is no .NET Framework version to set.
  // checkov:skip=CKV_AZURE_88: Flex Consumption keeps the package in blob storage; the app mounts no Azure Files.
  // checkov:skip=CKV_AZURE_222: The app stays public to Front Door, restricted to it by these rules (publicNetworkAccess is a parameter).
  parent: app
  name: 'web'
  properties: {
    minTlsVersion: '1.2'
    ftpsState: 'Disabled'
    http20Enabled: true
    ipSecurityRestrictionsDefaultAction: 'Deny'
    ipSecurityRestrictions: [
      {
        name: 'front-door'
        description: 'This Front Door profile only: its service tag and its ID.'
        priority: 100
        action: 'Allow'
        tag: 'ServiceTag'
        ipAddress: 'AzureFrontDoor.Backend'
        headers: {
          'x-azure-fdid': [
            frontDoorId
          ]
        }
      }
      {
        name: 'event-grid'
        description: 'SMS delivery reports and inbound texts (function key).'
        priority: 200
        action: 'Allow'
        tag: 'ServiceTag'
        ipAddress: 'AzureEventGrid'
      }
    ]
    scmIpSecurityRestrictionsUseMain: false
  }
}

@description('Name of the function app whose access is restricted.')
output name string = app.name
