#!/usr/bin/env pwsh
# Thin wrapper over the real build tools, nothing more: the kernels' fatbin (CMakeLists.txt, only where nvcc exists;
# without it the engine compiles kernels.cu with NVRTC at run time), then dotnet build, test and publish.
#
#   ./build.ps1                          # Release: kernels (if nvcc), build, test, publish to out/sea
#   ./build.ps1 -SkipTests -SkipKernels
#   ./build.ps1 -Configuration Debug
[CmdletBinding()]
param(
    [ValidateSet('Debug', 'Release')]
    [string] $Configuration = 'Release',
    [switch] $SkipKernels,
    [switch] $SkipTests
)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest

# Runs a native command and stops the script when it fails (PowerShell does not, for native commands).
function Invoke-Step {
    param([Parameter(Mandatory)] [string] $Command, [Parameter(ValueFromRemainingArguments)] [string[]] $Arguments)
    Write-Host "> $Command $($Arguments -join ' ')"
    & $Command @Arguments
    if ($LASTEXITCODE -ne 0) { throw "'$Command $($Arguments -join ' ')' failed with exit code $LASTEXITCODE" }
}

Push-Location $PSScriptRoot
try {
    $kernelBuild = 'build/kernels'
    $buildKernels = -not $SkipKernels -and [bool](Get-Command nvcc -ErrorAction SilentlyContinue)
    if ($buildKernels) {
        Invoke-Step cmake -S . -B $kernelBuild "-DCMAKE_BUILD_TYPE=$Configuration"
        Invoke-Step cmake --build $kernelBuild --config $Configuration
    }
    elseif (-not $SkipKernels) {
        Write-Host 'nvcc not found: no kernels.fatbin (the engine compiles kernels.cu with NVRTC at run time).'
    }

    Invoke-Step dotnet build Engine.sln -c $Configuration
    if (-not $SkipTests) {
        Invoke-Step dotnet test Engine.sln -c $Configuration --no-build
    }
    Invoke-Step dotnet publish Cli -c $Configuration -o out/sea
    if ($buildKernels) {
        Invoke-Step cmake --install $kernelBuild --prefix out/sea --config $Configuration
    }
}
finally {
    Pop-Location
}
