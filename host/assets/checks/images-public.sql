-- id: images-public
-- title: Public AMIs
-- severity: high
-- needs: images.ImageId, images.Name, images.CreationDate, images.Public
-- description: AMIs the accounts own that every AWS account can launch. Make them private
--   unless publishing them is intended.
SELECT _account, _region, ImageId, Name, CreationDate
FROM images
WHERE Public = 1
ORDER BY _account, _region, ImageId
