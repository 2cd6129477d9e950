@description('Name of the Azure Communication Services resource.')
param name string

@description('Where ACS stores data at rest: United States, Europe, Asia Pacific, ...')
param dataLocation string

@description('Tags for the resources.')
param tags object = {}

@description('Principal ID of the function app\'s managed identity, granted Contributor on the ACS resource (how ACS authorizes Entra ID callers).')
param principalId string

// Contributor
var contributor = 'b24988ac-6180-42a0-ab88-20f7382dd24c'

resource acs 'Microsoft.Communication/communicationServices@2025-05-01' = {
  name: name
  location: 'global'
  tags: tags
  properties: {
    dataLocation: dataLocation
    disableLocalAuth: true
  }
}

// Contributor (ACS has no narrower built-in role for sending SMS with Entra ID)
resource acsContributor 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(acs.id, principalId, contributor)
  scope: acs
  properties: {
    principalId: principalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', contributor)
  }
}

resource topic 'Microsoft.EventGrid/systemTopics@2024-06-01-preview' = {
  name: '${name}-events'
  location: 'global'
  tags: tags
  properties: {
    source: acs.id
    topicType: 'Microsoft.Communication.CommunicationServices'
  }
}

@description('Name of the ACS resource.')
output name string = acs.name

@description('Resource ID of the ACS resource.')
output resourceId string = acs.id

@description('Name of the Event Grid system topic of the ACS resource.')
output topicName string = topic.name

@description('Endpoint of the ACS resource.')
output endpoint string = 'https://${acs.properties.hostName}'
