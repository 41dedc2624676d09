/* metrics.c - regression errors the model trainers share (models.h).
 *
 * Plain sums in one pass, in double: the holdouts they score are hundreds
 * of rows, far from where compensated summation would matter. Both return
 * NAN for no rows (nothing measured is not an error of 0).
 */
#include "aipm/models.h"

#include <math.h>

double aipm_mae(const double *pred, const double *obs, int n)
{
    double sum = 0;
    int i;

    if (n <= 0 || pred == NULL || obs == NULL)
        return NAN;
    for (i = 0; i < n; i++)
        sum += fabs(pred[i] - obs[i]);
    return sum / n;
}

double aipm_rmse(const double *pred, const double *obs, int n)
{
    double sum = 0;
    int i;

    if (n <= 0 || pred == NULL || obs == NULL)
        return NAN;
    for (i = 0; i < n; i++)
        sum += (pred[i] - obs[i]) * (pred[i] - obs[i]);
    return sqrt(sum / n);
}
