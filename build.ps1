#!/usr/bin/env pwsh
# A thin wrapper, nothing more: kernels (when nvcc exists), build, test, publish. The logic lives in CMakeLists.txt
# and the projects.
param(
    [string]$Configuration = 'Release',
    [switch]$SkipKernels,
    [switch]$SkipTests
)
$ErrorActionPreference = 'Stop'
Set-Location $PSScriptRoot

if (-not $SkipKernels -and (Get-Command nvcc -ErrorAction SilentlyContinue)) {
    cmake -S . -B build/kernels
    cmake --build build/kernels
} elseif (-not $SkipKernels) {
    Write-Host 'nvcc not found: kernels.cu will be compiled at run time by NVRTC.'
}

dotnet build Engine.sln -c $Configuration
if ($LASTEXITCODE) { exit $LASTEXITCODE }
if (-not $SkipTests) {
    dotnet test Engine.sln -c $Configuration --no-build
    if ($LASTEXITCODE) { exit $LASTEXITCODE }
}
dotnet publish Cli -c $Configuration -o out/sea
if ($LASTEXITCODE) { exit $LASTEXITCODE }
if (Test-Path build/kernels/kernels.fatbin) { Copy-Item build/kernels/kernels.fatbin out/sea/ }
