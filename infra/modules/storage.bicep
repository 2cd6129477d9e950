@description('Name of the storage account (3-24 lowercase letters and digits).')
@minLength(3)
@maxLength(24)
param name string

@description('Azure region of the account: for a data account, a region of its geography.')
param location string

@description('Tags for the resource.')
param tags object = {}

@description('Replication: Standard_ZRS where the region has zones, else Standard_LRS; Standard_GZRS for higher resilience.')
param skuName string = 'Standard_ZRS'

@description('Enabled or Disabled. Disabled needs private endpoints and a virtual-network-integrated function app.')
@allowed([
  'Enabled'
  'Disabled'
])
param publicNetworkAccess string = 'Enabled'

@description('Principal ID of the function app\'s managed identity, granted the data roles below.')
param principalId string

@description('Blob containers to create (the app account holds the Flex Consumption deployment package).')
param containers array = []

@description('Also grant Storage Blob Data Owner: the Functions host needs it on AzureWebJobsStorage.')
param hostStorage bool = false

// Built-in data-plane roles.
var storageBlobDataContributor = 'ba92f5b4-2d11-453d-a403-e96b0029c9fe'
var storageBlobDataOwner = 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b'
var storageQueueDataContributor = '974c5e8b-45b9-4653-ba55-5f855dd0fb88'
var storageTableDataContributor = '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3'

resource account 'Microsoft.Storage/storageAccounts@2023-05-01' = {
  // checkov:skip=CKV_AZURE_33: Queue service logging is collected through diagnostic settings to Log Analytics, not classic Storage Analytics.
  // checkov:skip=CKV_AZURE_35: Default-deny network rules are the publicNetworkAccess parameter's job; with Disabled, private endpoints are used.
  // checkov:skip=CKV_AZURE_59: Public network access is a documented parameter (publicNetworkAccess), Enabled by default for the Consumption plan.
  // checkov:skip=CKV_AZURE_206: Replication is the skuName parameter; ZRS by default, GZRS where the organisation wants geo-redundancy.
  // checkov:skip=CKV2_AZURE_1: Customer-managed keys are optional; data is encrypted at rest with Microsoft-managed keys.
  // checkov:skip=CKV2_AZURE_33: Private endpoints come with publicNetworkAccess=Disabled, which needs the organisation's virtual network.
  // checkov:skip=CKV2_AZURE_38: Soft delete applies to blobs; the data-plane tables are written idempotently and the app keeps no blobs of record.
  // checkov:skip=CKV2_AZURE_40: Shared key access is disabled (allowSharedKeyAccess: false); checkov does not read it.
  // checkov:skip=CKV2_AZURE_41: No SAS tokens are issued: every client uses Entra ID (managed identity).
  name: name
  location: location
  tags: tags
  kind: 'StorageV2'
  sku: {
    name: skuName
  }
  properties: {
    accessTier: 'Hot'
    allowBlobPublicAccess: false
    allowSharedKeyAccess: false
    allowCrossTenantReplication: false
    defaultToOAuthAuthentication: true
    minimumTlsVersion: 'TLS1_2'
    supportsHttpsTrafficOnly: true
    publicNetworkAccess: publicNetworkAccess
    networkAcls: {
      bypass: 'AzureServices'
      defaultAction: publicNetworkAccess == 'Enabled' ? 'Allow' : 'Deny'
    }
    encryption: {
      keySource: 'Microsoft.Storage'
      requireInfrastructureEncryption: true
      services: {
        blob: { enabled: true, keyType: 'Account' }
        file: { enabled: true, keyType: 'Account' }
        queue: { enabled: true, keyType: 'Account' }
        table: { enabled: true, keyType: 'Account' }
      }
    }
  }
}

resource blobService 'Microsoft.Storage/storageAccounts/blobServices@2023-05-01' = {
  parent: account
  name: 'default'
  properties: {
    deleteRetentionPolicy: {
      enabled: true
      days: 7
    }
    containerDeleteRetentionPolicy: {
      enabled: true
      days: 7
    }
  }
}

resource blobContainers 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = [
  for container in containers: {
    parent: blobService
    name: container
    properties: {
      publicAccess: 'None'
    }
  }
]

// Storage Blob Data Contributor
resource blobContributor 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(account.id, principalId, storageBlobDataContributor)
  scope: account
  properties: {
    principalId: principalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', storageBlobDataContributor)
  }
}

// Storage Queue Data Contributor
resource queueContributor 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(account.id, principalId, storageQueueDataContributor)
  scope: account
  properties: {
    principalId: principalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', storageQueueDataContributor)
  }
}

// Storage Table Data Contributor
resource tableContributor 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(account.id, principalId, storageTableDataContributor)
  scope: account
  properties: {
    principalId: principalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', storageTableDataContributor)
  }
}

// Storage Blob Data Owner (the Functions host's own blobs: leases, timers, deployment package)
resource blobOwner 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (hostStorage) {
  name: guid(account.id, principalId, storageBlobDataOwner)
  scope: account
  properties: {
    principalId: principalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', storageBlobDataOwner)
  }
}

resource queueService 'Microsoft.Storage/storageAccounts/queueServices@2023-05-01' = {
  parent: account
  name: 'default'
  properties: {}
}

resource tableService 'Microsoft.Storage/storageAccounts/tableServices@2023-05-01' = {
  parent: account
  name: 'default'
  properties: {}
}

// Queue logs (reads, writes, deletes: request metadata, never message bodies) and transactions, to Log Analytics
resource queueDiagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'to-log-analytics'
  scope: queueService
  properties: {
    workspaceId: workspaceId
    logs: [
      { category: 'StorageRead', enabled: true }
      { category: 'StorageWrite', enabled: true }
      { category: 'StorageDelete', enabled: true }
    ]
    metrics: [
      { category: 'Transaction', enabled: true }
    ]
  }
}

// Table logs (reads, writes, deletes: request metadata, never entities) and transactions, to Log Analytics
resource tableDiagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'to-log-analytics'
  scope: tableService
  properties: {
    workspaceId: workspaceId
    logs: [
      { category: 'StorageRead', enabled: true }
      { category: 'StorageWrite', enabled: true }
      { category: 'StorageDelete', enabled: true }
    ]
    metrics: [
      { category: 'Transaction', enabled: true }
    ]
  }
}

@description('Name of the storage account.')
output name string = account.name

@description('Resource ID of the storage account.')
output resourceId string = account.id

@description('Blob endpoint of the account.')
output blobEndpoint string = account.properties.primaryEndpoints.blob

@description('Table endpoint of the account.')
output tableEndpoint string = account.properties.primaryEndpoints.table

@description('Queue endpoint of the account (a queue trigger\'s identity-based connection).')
output queueEndpoint string = account.properties.primaryEndpoints.queue
