#!/usr/bin/env pwsh
# Thin wrapper over the real build tools, nothing more: the kernels' fatbin (CMakeLists.txt, only where nvcc exists;
# without it the engine compiles kernels.cu with NVRTC at run time), then dotnet build, test and publish.
#
#   ./build.ps1                          # Release: kernels (if nvcc), build, test, publish to out/sea
#   ./build.ps1 -SkipTests -SkipKernels
#   ./build.ps1 -Configuration Debug
param(
    [ValidateSet('Debug', 'Release')]
    [string] $Configuration = 'Release',
    [switch] $SkipKernels,
    [switch] $SkipTests
)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest

# PowerShell does not stop when a native command fails: each step checks its exit code.
function Assert-Success([string] $Step) {
    if ($LASTEXITCODE -ne 0) { throw "$Step failed with exit code $LASTEXITCODE" }
}

Push-Location $PSScriptRoot
try {
    $kernelBuild = 'build/kernels'
    $buildKernels = -not $SkipKernels -and [bool](Get-Command nvcc -ErrorAction SilentlyContinue)
    if ($buildKernels) {
        cmake -S . -B $kernelBuild "-DCMAKE_BUILD_TYPE=$Configuration"; Assert-Success 'cmake (configure)'
        cmake --build $kernelBuild --config $Configuration; Assert-Success 'cmake --build (kernels.fatbin)'
    }
    elseif (-not $SkipKernels) {
        Write-Host 'nvcc not found: no kernels.fatbin (the engine compiles kernels.cu with NVRTC at run time).'
    }

    dotnet build Engine.sln -c $Configuration; Assert-Success 'dotnet build'
    if (-not $SkipTests) {
        dotnet test Engine.sln -c $Configuration --no-build; Assert-Success 'dotnet test'
    }
    dotnet publish Cli -c $Configuration -o out/sea; Assert-Success 'dotnet publish'
    if ($buildKernels) {
        cmake --install $kernelBuild --prefix out/sea --config $Configuration; Assert-Success 'cmake --install (kernels.fatbin beside sea)'
    }
}
finally {
    Pop-Location
}
