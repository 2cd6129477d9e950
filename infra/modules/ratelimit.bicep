// Azure Front Door (Standard) in front of the connector: /api/* goes straight to the function app (which then takes
// requests from this profile only: frontdooraccess.bicep), everything else to the Static Web App. A WAF rate-limit
// rule per client address covers the anonymous routes (EHR launches, join links, the visit panel's API, HL7, event
// webhooks, the JWKS). The dev host's equivalent is its anonymous_limit (dev/host/host.py). Off by default
// (enableRateLimit in main.bicep).

@description('Name prefix of the Front Door profile, endpoint and WAF policy.')
param name string

@description('Host name of the origin Front Door forwards to: the connector\'s public host (the Static Web App).')
param originHostName string

@description('Default host name of the function app, which Front Door sends /api/* to.')
param apiHostName string

@description('Requests per minute from one client address to the anonymous routes before Front Door answers 429.')
@minValue(10)
param requestsPerMinute int = 300

@description('Tags for every resource.')
param tags object = {}

resource waf 'Microsoft.Network/FrontDoorWebApplicationFirewallPolicies@2022-05-01' = {
  // checkov:skip=CKV_AZURE_173: Managed rule sets (and with them the Log4j rule) need the Premium tier; this policy only rate-limits, and the app is Python.
  name: toLower(replace('${name}waf', '-', ''))
  location: 'Global'
  tags: tags
  sku: {
    name: 'Standard_AzureFrontDoor'
  }
  properties: {
    policySettings: {
      enabledState: 'Enabled'
      mode: 'Prevention'
    }
    customRules: {
      rules: [
        {
          name: 'AnonymousPerClient'
          priority: 100
          enabledState: 'Enabled'
          ruleType: 'RateLimitRule'
          rateLimitDurationInMinutes: 1
          rateLimitThreshold: requestsPerMinute
          matchConditions: [
            {
              matchVariable: 'RequestUri'
              operator: 'Contains'
              matchValue: [
                '/api/launch/'
                '/api/join' // the join page and its post (/api/join), and links sent as /api/join/{token}
                '/api/lost-link/'
                '/api/survey' // the survey page and its post
                '/api/visits/'
                '/api/hl7/'
                '/api/events/'
                '/api/portal/approval/'
                '/api/.well-known/'
              ]
            }
          ]
          action: 'Block'
        }
      ]
    }
  }
}

resource profile 'Microsoft.Cdn/profiles@2023-05-01' = {
  name: '${name}-fd'
  location: 'global'
  tags: tags
  sku: {
    name: 'Standard_AzureFrontDoor'
  }
}

resource endpoint 'Microsoft.Cdn/profiles/afdEndpoints@2023-05-01' = {
  parent: profile
  name: '${name}-ep'
  location: 'global'
  tags: tags
  properties: {
    enabledState: 'Enabled'
  }
}

resource originGroup 'Microsoft.Cdn/profiles/originGroups@2023-05-01' = {
  parent: profile
  name: 'connector'
  properties: {
    loadBalancingSettings: {
      sampleSize: 4
      successfulSamplesRequired: 3
    }
    healthProbeSettings: {
      probePath: '/api/health'
      probeRequestType: 'GET'
      probeProtocol: 'Https'
      probeIntervalInSeconds: 120
    }
  }
}

resource origin 'Microsoft.Cdn/profiles/originGroups/origins@2023-05-01' = {
  parent: originGroup
  name: 'public-origin'
  properties: {
    hostName: originHostName
    originHostHeader: originHostName
    httpsPort: 443
    httpPort: 80
    priority: 1
    weight: 1000
    enforceCertificateNameCheck: true
  }
}

resource apiOriginGroup 'Microsoft.Cdn/profiles/originGroups@2023-05-01' = {
  parent: profile
  name: 'api'
  properties: {
    loadBalancingSettings: {
      sampleSize: 4
      successfulSamplesRequired: 3
    }
    healthProbeSettings: {
      probePath: '/api/health'
      probeRequestType: 'GET'
      probeProtocol: 'Https'
      probeIntervalInSeconds: 120
    }
  }
}

resource apiOrigin 'Microsoft.Cdn/profiles/originGroups/origins@2023-05-01' = {
  parent: apiOriginGroup
  name: 'function-app'
  properties: {
    hostName: apiHostName
    originHostHeader: apiHostName
    httpsPort: 443
    httpPort: 80
    priority: 1
    weight: 1000
    enforceCertificateNameCheck: true
  }
}

// The more specific pattern wins: the API's requests reach the function app from this profile, with its ID.
resource apiRoute 'Microsoft.Cdn/profiles/afdEndpoints/routes@2023-05-01' = {
  parent: endpoint
  name: 'api'
  dependsOn: [
    apiOrigin
  ]
  properties: {
    originGroup: {
      id: apiOriginGroup.id
    }
    supportedProtocols: [
      'Https'
    ]
    patternsToMatch: [
      '/api/*'
    ]
    forwardingProtocol: 'HttpsOnly'
    linkToDefaultDomain: 'Enabled'
    httpsRedirect: 'Enabled'
  }
}

resource route 'Microsoft.Cdn/profiles/afdEndpoints/routes@2023-05-01' = {
  parent: endpoint
  name: 'everything'
  dependsOn: [
    origin
  ]
  properties: {
    originGroup: {
      id: originGroup.id
    }
    supportedProtocols: [
      'Https'
    ]
    patternsToMatch: [
      '/*'
    ]
    forwardingProtocol: 'HttpsOnly'
    linkToDefaultDomain: 'Enabled'
    httpsRedirect: 'Enabled'
  }
}

resource securityPolicy 'Microsoft.Cdn/profiles/securityPolicies@2023-05-01' = {
  parent: profile
  name: 'anonymous-rate-limit'
  properties: {
    parameters: {
      type: 'WebApplicationFirewall'
      wafPolicy: {
        id: waf.id
      }
      associations: [
        {
          domains: [
            {
              id: endpoint.id
            }
          ]
          patternsToMatch: [
            '/*'
          ]
        }
      ]
    }
  }
}

@description('Host name of the Front Door endpoint: use https://{it} as publicBaseUrl, and in the EHR\'s records.')
output hostName string = endpoint.properties.hostName

@description('The profile\'s ID, which Front Door sends as X-Azure-FDID: the function app takes requests carrying it only.')
output frontDoorId string = profile.properties.frontDoorId
