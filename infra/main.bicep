// The EHR virtual visits connector: function app (Flex Consumption), the app's storage, one data storage account
// per geography, Key Vault, Azure Communication Services with its SMS events, the admin portal (Static Web App)
// and monitoring, all reached with one user-assigned managed identity and no shared keys.
targetScope = 'resourceGroup'

@description('Deployment environment: test or prod (the app refuses development-only providers in prod).')
@allowed([
  'test'
  'prod'
])
param environmentName string

@description('Short prefix of every resource name (lowercase letters and digits).')
@minLength(2)
@maxLength(8)
param namePrefix string = 'vv'

@description('Region of the function app, the app\'s storage, Key Vault and monitoring.')
param location string = resourceGroup().location

@description('The geographies whose organisations this deployment serves, each with a region inside it for that geography\'s data storage account, e.g. [{"name": "EU", "location": "westeurope"}]. Names: US, EU, APAC.')
param geographies array

@description('Where Azure Communication Services keeps data at rest (United States, Europe, Asia Pacific, ...).')
param communicationDataLocation string = 'United States'

@description('Region of the Static Web App (Static Web Apps are offered in a few regions only).')
param staticWebAppLocation string = 'westeurope'

@description('Public network access of storage, Key Vault and the function app: Enabled, or Disabled when the organisation brings private endpoints and a virtual network.')
@allowed([
  'Enabled'
  'Disabled'
])
param publicNetworkAccess string = 'Enabled'

@description('Client ID of the API\'s Entra ID app registration (the audience of portal access tokens).')
param portalApiAudience string

@description('Client ID of the portal SPA\'s Entra ID app registration (MSAL sign-in); empty uses the API\'s registration (portalApiAudience) for both.')
param portalClientId string = ''

@description('Comma-separated Entra tenant IDs allowed to use the portal; empty allows any tenant.')
param portalAllowedTenants string = tenant().tenantId

@description('Microsoft 365 user (object) ID that organizes meetings for clinicians without a mapped user. It needs a Teams application access policy.')
param meetingOrganizerId string

@description('Client ID of the Entra ID app registration (web platform, multitenant) that clinicians sign in through once, so that they organise their own meetings; its client secret is the Key Vault secret clinician-sign-in-secret. Empty: every meeting has the service organizer.')
param clinicianSignInClientId string = ''

@description('The connector\'s public URL when it has a custom domain; empty uses the Static Web App\'s address.')
param publicBaseUrl string = ''

@description('Key that signs SMS join links and visit sessions (Key Vault secret join-link-key), stored on the first provision only (see provisionedKeyVaultName); azd passes a random one every time. Empty stores nothing. Rotate it with `make rotate-join-link-key`, never by passing it again.')
@secure()
param joinLinkKey string = ''

@description('Key under which STOP numbers are hashed (Key Vault secret opt-out-key), stored on the first provision only, like joinLinkKey; never rotated. Empty stores nothing.')
@secure()
param optOutKey string = ''

@description('The key vault of an earlier successful provision: azd passes back its KEY_VAULT_NAME output. When it names this deployment\'s vault, the join-link and opt-out keys exist and are left as they are (joinLinkKey and optOutKey are ignored).')
param provisionedKeyVaultName string = ''

@description('Deliver SMS delivery reports and inbound SMS to the function app. Turn on after the first code deployment: Event Grid validates the endpoint when the subscription is created.')
param enableSmsEvents bool = false

@description('Put Azure Front Door with a per-client rate limit on the anonymous routes (launch, join links, visit panel, HL7, webhooks, JWKS) in front of the public origin, and let the function app answer only it; then set publicBaseUrl to its RATE_LIMITED_URL.')
param enableRateLimit bool = false

@description('With enableRateLimit: requests per minute from one client address to the anonymous routes before 429.')
param anonymousRequestsPerMinute int = 300

@description('Countries (ISO 3166, comma-separated) organisations may text patients in. US unless their sender rules are met for others.')
param smsCountries string = 'US'

@description('Most function app instances.')
param maximumInstanceCount int = 40

@description('Tags for every resource.')
param tags object = {}

@description('E-mail addresses of the operations team, told of every alert (poison queues, failed writebacks, failed texts, 5xx).')
param alertEmails array = []

var suffix = uniqueString(subscription().id, resourceGroup().id, environmentName)
var baseName = '${namePrefix}-${environmentName}-${suffix}'
var compactName = toLower('${namePrefix}${environmentName}${substring(suffix, 0, 6)}')
var allTags = union(tags, { 'azd-env-name': environmentName, application: 'ehr-virtual-visits-connector' })
var deploymentContainer = 'app-package'
var backupContainer = 'backups' // make backup writes the control plane here
var publicBase = empty(publicBaseUrl) ? 'https://${portal.outputs.defaultHostname}' : publicBaseUrl

module identity 'modules/identity.bicep' = {
  name: 'identity'
  params: {
    name: '${baseName}-id'
    location: location
    tags: allTags
  }
}

module appStorage 'modules/storage.bicep' = {
  name: 'storage-app'
  params: {
    name: '${compactName}app'
    location: location
    tags: allTags
    publicNetworkAccess: publicNetworkAccess
    principalId: identity.outputs.principalId
    containers: [deploymentContainer, backupContainer]
    hostStorage: true
    workspaceId: monitoring.outputs.workspaceId
  }
}

module dataStorage 'modules/storage.bicep' = [
  for geography in geographies: {
    name: 'storage-${toLower(geography.name)}'
    params: {
      name: '${compactName}${toLower(geography.name)}'
      location: geography.location
      tags: union(allTags, { geography: geography.name })
      publicNetworkAccess: publicNetworkAccess
      principalId: identity.outputs.principalId
      workspaceId: monitoring.outputs.workspaceId
    }
  }
]

module vault 'modules/keyvault.bicep' = {
  name: 'keyvault'
  params: {
    name: '${compactName}kv'
    location: location
    tags: allTags
    publicNetworkAccess: publicNetworkAccess
    principalId: identity.outputs.principalId
    joinLinkKey: joinLinkKey
    optOutKey: optOutKey
    provisionedName: provisionedKeyVaultName
    workspaceId: monitoring.outputs.workspaceId
  }
}

module monitoring 'modules/monitoring.bicep' = {
  name: 'monitoring'
  params: {
    name: baseName
    location: location
    tags: allTags
    principalId: identity.outputs.principalId
  }
}

module communication 'modules/communication.bicep' = {
  name: 'communication'
  params: {
    name: '${baseName}-acs'
    dataLocation: communicationDataLocation
    tags: allTags
    principalId: identity.outputs.principalId
  }
}

module portal 'modules/staticwebapp.bicep' = {
  name: 'portal'
  params: {
    name: '${baseName}-portal'
    location: staticWebAppLocation
    tags: union(allTags, { 'azd-service-name': 'web' })
  }
}

var staticSettings = [
  { name: 'ENVIRONMENT', value: environmentName }
  { name: 'AzureWebJobsStorage__accountName', value: appStorage.outputs.name }
  { name: 'AzureWebJobsStorage__credential', value: 'managedidentity' }
  { name: 'AzureWebJobsStorage__clientId', value: identity.outputs.clientId }
  { name: 'AZURE_CLIENT_ID', value: identity.outputs.clientId }
  { name: 'STORAGE_ENDPOINT_SUFFIX', value: environment().suffixes.storage }
  { name: 'STORAGE_TIMEOUT_SECONDS', value: '5' }
  { name: 'TABLE_PREFIX', value: '' }
  { name: 'PUBLIC_BASE_URL', value: publicBase }
  { name: 'PORTAL_URL', value: publicBase }
  { name: 'PORTAL_API_AUDIENCE', value: portalApiAudience }
  { name: 'ENTRA_AUTHORITY', value: 'https://login.microsoftonline.com' }
  { name: 'PORTAL_ALLOWED_TENANTS', value: portalAllowedTenants }
  { name: 'PORTAL_CLIENT_ID', value: portalClientId }
  { name: 'HTTP_TIMEOUT_SECONDS', value: '10' }
  { name: 'SMART_CACHE_SECONDS', value: '3600' }
  { name: 'MEETING_PROVIDER', value: 'graph' }
  { name: 'MEETING_ORGANIZER_ID', value: meetingOrganizerId }
  { name: 'CLINICIAN_SIGN_IN_CLIENT_ID', value: clinicianSignInClientId }
  { name: 'GRAPH_BASE_URL', value: '${environment().graph}v1.0' }
  { name: 'JOIN_LINK_OPENS_MINUTES', value: '30' }
  { name: 'JOIN_LINK_CLOSES_MINUTES', value: '60' }
  { name: 'VISIT_LENGTH_MINUTES', value: '60' }
  { name: 'HL7_MAX_AGE_HOURS', value: '24' }
  { name: 'REMINDER_MAX_LATE_MINUTES', value: '30' }
  { name: 'SMS_PROVIDER', value: 'acs' }
  { name: 'SMS_COUNTRIES', value: smsCountries }
  { name: 'SMS_RATE_PER_MINUTE', value: '200' }
  { name: 'SMS_RATE_GEOGRAPHIC_PER_MINUTE', value: '60' }
  { name: 'SMS_MAX_ATTEMPTS', value: '6' }
  { name: 'PHONE_NUMBER_POLL_SECONDS', value: '10' }
  { name: 'SECRETS_PROVIDER', value: 'keyvault' }
  { name: 'KEY_VAULT_URL', value: vault.outputs.uri }
  { name: 'SECRET_CACHE_SECONDS', value: '300' }
  { name: 'ACS_ENDPOINT', value: communication.outputs.endpoint }
  { name: 'APPLICATIONINSIGHTS_CONNECTION_STRING', value: monitoring.outputs.connectionString }
  { name: 'APPLICATIONINSIGHTS_AUTHENTICATION_STRING', value: 'ClientId=${identity.outputs.clientId};Authorization=AAD' }
]

var geographySettings = [
  for (geography, index) in geographies: {
    name: 'DATA_STORAGE_${toUpper(geography.name)}'
    value: dataStorage[index].outputs.name
  }
]

// The sms-outbound, sms-waiting, hl7-appointments, reminders-due, lost-links and participant-events queues live in each geography's own account, so that what they carry
// stays in the organisation's geography; their triggers connect with the managed identity.
var geographyQueueUris = [
  for (geography, index) in geographies: {
    name: 'DATA_QUEUES_${toUpper(geography.name)}__queueServiceUri'
    value: dataStorage[index].outputs.queueEndpoint
  }
]

var geographyQueueCredentials = [
  for geography in geographies: {
    name: 'DATA_QUEUES_${toUpper(geography.name)}__credential'
    value: 'managedidentity'
  }
]

var geographyQueueClientIds = [
  for geography in geographies: {
    name: 'DATA_QUEUES_${toUpper(geography.name)}__clientId'
    value: identity.outputs.clientId
  }
]

module functionApp 'modules/functionapp.bicep' = {
  name: 'functionapp'
  params: {
    name: '${baseName}-func'
    location: location
    tags: union(allTags, { 'azd-service-name': 'api' })
    identityId: identity.outputs.resourceId
    identityClientId: identity.outputs.clientId
    deploymentBlobEndpoint: appStorage.outputs.blobEndpoint
    deploymentContainer: deploymentContainer
    appSettings: concat(staticSettings, geographySettings, geographyQueueUris, geographyQueueCredentials, geographyQueueClientIds)
    publicNetworkAccess: publicNetworkAccess
    maximumInstanceCount: maximumInstanceCount
    workspaceId: monitoring.outputs.workspaceId
  }
}

module alerts 'modules/alerts.bicep' = {
  name: 'alerts'
  params: {
    name: baseName
    location: location
    tags: allTags
    workspaceId: monitoring.outputs.workspaceId
    alertEmails: alertEmails
  }
}

// Event Grid validates the endpoint when the subscription is created, so it comes after the code is deployed.
module smsEvents 'modules/smsevents.bicep' = if (enableSmsEvents) {
  name: 'sms-events'
  params: {
    topicName: communication.outputs.topicName
    endpointUrl: 'https://${functionApp.outputs.defaultHostname}/api/events/sms?code=${listKeys(resourceId('Microsoft.Web/sites/host', '${baseName}-func', 'default'), '2024-04-01').functionKeys.default}'
  }
}

module rateLimit 'modules/ratelimit.bicep' = if (enableRateLimit) {
  name: 'rate-limit'
  params: {
    name: baseName
    originHostName: portal.outputs.defaultHostname
    apiHostName: functionApp.outputs.defaultHostname
    requestsPerMinute: anonymousRequestsPerMinute
    tags: allTags
  }
}

// With Front Door in front, the function app answers only through it (and Event Grid's SMS events).
module frontDoorAccess 'modules/frontdooraccess.bicep' = if (enableRateLimit) {
  name: 'front-door-access'
  params: {
    functionAppName: functionApp.outputs.name
    frontDoorId: rateLimit!.outputs.frontDoorId
  }
}

module portalBackend 'modules/linkedbackend.bicep' = {
  name: 'portal-backend'
  params: {
    staticWebAppName: portal.outputs.name
    functionAppId: functionApp.outputs.resourceId
    functionAppLocation: location
  }
}

@description('Name of the function app.')
output AZURE_FUNCTION_APP_NAME string = functionApp.outputs.name

@description('Direct URL of the function app.')
output FUNCTION_APP_URL string = 'https://${functionApp.outputs.defaultHostname}'

@description('The connector\'s public URL (portal and /api): enter it in the Entra app registration and the EHR.')
output PUBLIC_BASE_URL string = publicBase

@description('Name of the Static Web App serving the admin portal.')
output STATIC_WEB_APP_NAME string = portal.outputs.name

@description('Name of the app\'s own storage account.')
output APP_STORAGE_ACCOUNT string = appStorage.outputs.name

@description('Data storage account of each geography.')
output DATA_STORAGE_ACCOUNTS array = [
  for (geography, index) in geographies: {
    geography: geography.name
    name: dataStorage[index].outputs.name
    location: geography.location
  }
]

@description('Name of the key vault. azd keeps it in the environment and passes it back as provisionedKeyVaultName, so that later provisions leave the keys alone.')
output KEY_VAULT_NAME string = vault.outputs.name

@description('URI of the key vault.')
output KEY_VAULT_URL string = vault.outputs.uri

@description('Name of Azure Communication Services.')
output ACS_NAME string = communication.outputs.name

@description('Endpoint of Azure Communication Services.')
output ACS_ENDPOINT string = communication.outputs.endpoint

@description('Name of Application Insights.')
output APPLICATION_INSIGHTS_NAME string = monitoring.outputs.name

@description('Client ID of the managed identity the app runs as.')
output MANAGED_IDENTITY_CLIENT_ID string = identity.outputs.clientId

@description('With enableRateLimit, the Front Door URL in front of the connector (use it as publicBaseUrl); otherwise empty.')
output RATE_LIMITED_URL string = enableRateLimit ? 'https://${rateLimit!.outputs.hostName}' : ''
